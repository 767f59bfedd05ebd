package httpapi

import (
	"database/sql"
	"encoding/csv"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"cpor/apperr"
	"cpor/claims"
	"cpor/graph"
	"cpor/graph/model"
	"cpor/models"
	"cpor/relay"
	"cpor/storage"
)

// ExportPath is where the claims export is served.
const ExportPath = "/exports/claims.csv"

const (
	// exportFlushRows is how many rows are written between flushes: often
	// enough that the client sees progress and the server holds little,
	// rarely enough that flushing costs nothing measurable.
	exportFlushRows = 1000
	// exportWriteTimeout bounds how long one flush may wait for a client
	// that stopped reading; past it the export ends and frees its database
	// connection.
	exportWriteTimeout = 30 * time.Second
)

// exportHeader names the CSV's columns (docs/search-and-export.md).
var exportHeader = []string{
	"id", "name", "status", "solution_area", "activity", "partner_organization",
	"customer_tenant_id", "customer_domain", "customer_name", "product", "subscription_id",
	"submitted_at", "decided_at", "updated_at", "last_decision", "decision_reason",
}

// exportHandler streams the claims the caller may see, filtered as the
// claims query filters them, as CSV. Errors found before the first byte
// are JSON with a code; an error later aborts the response, so the client
// sees a broken transfer rather than a short file that looks complete.
func exportHandler(svc *claims.Service, log *slog.Logger, slots chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, order, err := exportRequest(r.URL.Query())
		if err != nil {
			writeError(w, log, r, err)
			return
		}
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		default:
			// Each export holds a database connection for its whole run.
			w.Header().Set("Retry-After", "5")
			writeErrorBody(w, http.StatusTooManyRequests, "Too many exports are running; retry in a few seconds.", apperr.RateLimited)
			return
		}
		out := newCSVStream(w)
		err = svc.Export(r.Context(), f, order, out.write)
		if err == nil {
			err = out.finish()
		}
		switch {
		case err == nil:
		case !out.started:
			writeError(w, log, r, err)
		default:
			level := slog.LevelError
			if errors.Is(err, r.Context().Err()) || errors.Is(err, errClientWrite) {
				level = slog.LevelInfo // the client went away or the server is stopping
			}
			log.Log(r.Context(), level, "export aborted", "rows", out.rows, "err", err)
			panic(http.ErrAbortHandler)
		}
	})
}

// csvStream writes export rows to the response, its headers with the
// first row.
type csvStream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	csv     *csv.Writer
	record  []string
	started bool
	rows    int
}

func newCSVStream(w http.ResponseWriter) *csvStream {
	return &csvStream{w: w, rc: http.NewResponseController(w), csv: csv.NewWriter(w), record: make([]string, len(exportHeader))}
}

// errClientWrite marks a failure to write to the client.
var errClientWrite = errors.New("write to client")

func (s *csvStream) begin() error {
	h := s.w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment",
		map[string]string{"filename": "claims-" + storage.Now().Format("2006-01-02") + ".csv"}))
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	s.w.WriteHeader(http.StatusOK)
	s.started = true
	_ = s.rc.SetWriteDeadline(time.Now().Add(exportWriteTimeout))
	return s.put(exportHeader)
}

func (s *csvStream) write(row *claims.ExportRow) error {
	if !s.started {
		if err := s.begin(); err != nil {
			return err
		}
	}
	fillRecord(s.record, row)
	if err := s.put(s.record); err != nil {
		return err
	}
	s.rows++
	if s.rows%exportFlushRows == 0 {
		return s.flush()
	}
	return nil
}

// put writes one record.
func (s *csvStream) put(record []string) error {
	if err := s.csv.Write(record); err != nil {
		return errors.Join(errClientWrite, err)
	}
	return nil
}

func (s *csvStream) flush() error {
	s.csv.Flush()
	if err := s.csv.Error(); err != nil {
		return errors.Join(errClientWrite, err)
	}
	if err := s.rc.Flush(); err != nil {
		return errors.Join(errClientWrite, err)
	}
	_ = s.rc.SetWriteDeadline(time.Now().Add(exportWriteTimeout))
	return nil
}

// finish writes what is left; an export of no claims is the header alone.
func (s *csvStream) finish() error {
	if !s.started {
		if err := s.begin(); err != nil {
			return err
		}
	}
	return s.flush()
}

// fillRecord renders an export row into rec, every cell neutralised
// (csvCell).
func fillRecord(rec []string, r *claims.ExportRow) {
	lastDecision := ""
	if r.DecidedAt.Valid {
		lastDecision = string(r.Status)
	}
	rec[0] = relay.UUIDGlobalID(relay.TypeClaim, r.ID)
	rec[1], rec[2], rec[3], rec[4] = r.Name, string(r.Status), string(r.SolutionArea), string(r.Activity)
	rec[5], rec[6], rec[7], rec[8] = r.Organization, r.CustomerTenantID.String(), r.CustomerDomain, r.CustomerName
	rec[9], rec[10] = r.Product.String, ""
	if r.SubscriptionID.Valid {
		rec[10] = r.SubscriptionID.UUID.String()
	}
	rec[11], rec[12], rec[13] = csvTime(r.SubmittedAt), csvTime(r.DecidedAt), r.UpdatedAt.UTC().Format(time.RFC3339)
	rec[14], rec[15] = lastDecision, r.DecisionReason
	for i, v := range rec {
		rec[i] = csvCell(v)
	}
}

func csvTime(t sql.NullTime) string {
	if !t.Valid {
		return ""
	}
	return t.Time.UTC().Format(time.RFC3339)
}

// csvCell neutralises a cell that a spreadsheet would run as a formula: one
// starting with =, +, - or @, or with a tab or carriage return (which some
// spreadsheets skip before looking for one), gets a leading single quote,
// as OWASP's CSV injection advice says. encoding/csv does the quoting.
func csvCell(s string) string {
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// exportSingle are the export's parameters that take one value; status
// and activity may repeat.
var exportSingle = map[string]bool{
	"solutionArea": true, "customerTenantId": true, "mpnId": true, "productId": true,
	"organizationId": true, "overdue": true, "search": true,
	"submittedFrom": true, "submittedTo": true, "decidedFrom": true, "decidedTo": true,
	"updatedFrom": true, "updatedTo": true, "orderBy": true, "direction": true,
}

// exportRequest reads the export's filter and order from the URL's query
// into the claims query's filter, then parses that as the query does.
func exportRequest(v url.Values) (claims.Filter, claims.Order, error) {
	var errs apperr.List
	for key, vals := range v {
		switch {
		case key == "status" || key == "activity":
		case !exportSingle[key]:
			errs.Add(apperr.Invalidf(key, "Unknown parameter %s; docs/search-and-export.md lists the export's parameters.", apperr.Quote(key)))
		case len(vals) > 1:
			errs.Add(apperr.Invalidf(key, "Give %s once.", key))
		}
	}
	if err := errs.Err(); err != nil {
		return claims.Filter{}, claims.Order{}, err
	}
	in, err := exportFilter(v)
	errs.Add(err)
	order, err := exportOrder(v)
	errs.Add(err)
	f, err := graph.ParseClaimFilter(in)
	errs.Add(err)
	return f, order, errs.Err()
}

func exportFilter(v url.Values) (*model.ClaimFilter, error) {
	var errs apperr.List
	str := func(key string) *string {
		if !v.Has(key) {
			return nil
		}
		s := v.Get(key)
		return &s
	}
	in := &model.ClaimFilter{
		CustomerTenantID: str("customerTenantId"), MpnID: str("mpnId"), ProductID: str("productId"),
		OrganizationID: str("organizationId"), Search: str("search"),
	}
	for _, s := range v["status"] {
		in.Status = append(in.Status, models.ClaimStatus(s))
	}
	for _, a := range v["activity"] {
		in.Activity = append(in.Activity, models.Activity(a))
	}
	if s := str("solutionArea"); s != nil {
		area := models.SolutionArea(*s)
		if !models.Contains(models.SolutionAreas, area) {
			errs.Add(apperr.Invalidf("solutionArea", "Unknown solution area %s.", apperr.Quote(*s)))
		}
		in.SolutionArea = &area
	}
	if s := str("overdue"); s != nil {
		b, err := strconv.ParseBool(*s)
		if err != nil || (*s != "true" && *s != "false") {
			errs.Add(apperr.Invalidf("overdue", "overdue is true or false."))
		}
		in.Overdue = &b
	}
	var err error
	in.Submitted, err = exportRange(v, "submitted")
	errs.Add(err)
	in.Decided, err = exportRange(v, "decided")
	errs.Add(err)
	in.Updated, err = exportRange(v, "updated")
	errs.Add(err)
	return in, errs.Err()
}

// exportRange reads <name>From and <name>To as RFC 3339 times.
func exportRange(v url.Values, name string) (*model.TimeRange, error) {
	var errs apperr.List
	var r model.TimeRange
	for _, end := range []struct {
		key string
		to  **time.Time
	}{{name + "From", &r.From}, {name + "To", &r.To}} {
		if !v.Has(end.key) {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v.Get(end.key))
		if err != nil {
			errs.Add(apperr.Invalidf(end.key, "%s is not an RFC 3339 time such as 2025-03-01T00:00:00Z.", apperr.Quote(v.Get(end.key))))
			continue
		}
		*end.to = &t
	}
	if r.From == nil && r.To == nil {
		return nil, errs.Err()
	}
	return &r, errs.Err()
}

func exportOrder(v url.Values) (claims.Order, error) {
	in := &model.ClaimOrder{Field: model.ClaimOrderFieldCreatedAt, Direction: model.OrderDirectionDesc}
	var errs apperr.List
	if v.Has("orderBy") {
		in.Field = model.ClaimOrderField(v.Get("orderBy"))
		if !in.Field.IsValid() {
			errs.Add(apperr.Invalidf("orderBy", "Unknown order %s; use one of %s.", apperr.Quote(v.Get("orderBy")), orderFields()))
		}
	}
	if v.Has("direction") {
		in.Direction = model.OrderDirection(v.Get("direction"))
		if !in.Direction.IsValid() {
			errs.Add(apperr.Invalidf("direction", "direction is ASC or DESC."))
		}
	}
	return graph.ParseClaimOrder(in), errs.Err()
}

func orderFields() string {
	names := make([]string, len(model.AllClaimOrderField))
	for i, f := range model.AllClaimOrderField {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}
