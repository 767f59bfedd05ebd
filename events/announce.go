package events

import (
	"strconv"
	"strings"

	"github.com/google/uuid"

	"cpor/models"
)

// Stream is the kind of live subscription an event can reach.
type Stream byte

const (
	StatusStream  Stream = 'S'
	CommentStream Stream = 'C'
)

// StreamOf says which stream, if any, an event belongs to. An information
// request fires a status event that keeps the state: it shows as its
// comments, not as a status change.
func StreamOf(e *models.ClaimEvent) (Stream, bool) {
	switch {
	case e.Type == models.EventStatusChanged && e.FromStatus != nil && e.ToStatus != nil && *e.FromStatus != *e.ToStatus:
		return StatusStream, true
	case e.Type == models.EventCommentAdded && e.CommentID != nil:
		return CommentStream, true
	}
	return 0, false
}

// Announced is an event a subscriber could receive, as a commit announces
// it: enough for a hub to tell whether anyone listening may see it.
type Announced struct {
	Stream         Stream
	ClaimID        uuid.UUID
	OrganizationID uuid.UUID
	// TenantID is the claim's customer tenant, for customer admins who
	// follow their tenant's claims; uuid.Nil when not known (an older
	// instance's announcement), which a hub must treat as any tenant.
	TenantID uuid.UUID
}

// Announcement is what a commit tells every instance's hub: the last
// sequence number it wrote and the events of it a subscriber could
// receive, so that a hub with nobody to show them reads nothing.
type Announcement struct {
	Last   int64
	Events []Announced
	// Partial says the events are not all listed (too many for a
	// notification, or an announcement that carries none, such as a
	// reconnected listener's): the hub must look.
	Partial bool
}

// maxAnnounced keeps a notification's payload (112 bytes an event) well
// under PostgreSQL's 8,000-byte limit; a larger commit (a big arbitration)
// is announced as partial.
const maxAnnounced = 60

// Announce makes the announcement of one transaction's committed events.
func Announce(rows []models.ClaimEvent) Announcement {
	a := Announcement{}
	for i := range rows {
		a.Last = max(a.Last, rows[i].Seq)
		if s, ok := StreamOf(&rows[i]); ok {
			a.Events = append(a.Events, Announced{s, rows[i].ClaimID, rows[i].OrganizationID, rows[i].CustomerTenantID})
		}
	}
	if len(a.Events) > maxAnnounced {
		a.Events, a.Partial = nil, true
	}
	return a
}

// Encode writes the announcement as a notification payload:
// "last|" then "S<claim>:<org>:<tenant>" entries separated by ";", or
// "last|*" when partial. An older instance's payload (the bare last
// sequence number) parses as partial; its entries without a tenant parse
// with an unknown (nil) tenant.
func (a Announcement) Encode() string {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(a.Last, 10))
	b.WriteByte('|')
	if a.Partial {
		b.WriteByte('*')
		return b.String()
	}
	for i, e := range a.Events {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteByte(byte(e.Stream))
		b.WriteString(e.ClaimID.String())
		b.WriteByte(':')
		b.WriteString(e.OrganizationID.String())
		b.WriteByte(':')
		b.WriteString(e.TenantID.String())
	}
	return b.String()
}

// ParseAnnouncement reads a notification payload; anything it cannot read
// is partial, so that the hub looks rather than misses an event.
func ParseAnnouncement(payload string) Announcement {
	last, list, found := strings.Cut(payload, "|")
	seq, err := strconv.ParseInt(last, 10, 64)
	if err != nil {
		return Announcement{Partial: true}
	}
	a := Announcement{Last: seq}
	if !found || list == "*" {
		a.Partial = true
		return a
	}
	if list == "" {
		return a
	}
	for _, entry := range strings.Split(list, ";") {
		e, ok := parseAnnounced(entry)
		if !ok {
			return Announcement{Last: seq, Partial: true}
		}
		a.Events = append(a.Events, e)
	}
	return a
}

func parseAnnounced(entry string) (Announced, bool) {
	if len(entry) < 2 {
		return Announced{}, false
	}
	stream := Stream(entry[0])
	if stream != StatusStream && stream != CommentStream {
		return Announced{}, false
	}
	parts := strings.Split(entry[1:], ":")
	if len(parts) < 2 || len(parts) > 3 {
		return Announced{}, false
	}
	ids := make([]uuid.UUID, 3)
	for i, part := range parts {
		id, err := uuid.Parse(part)
		if err != nil {
			return Announced{}, false
		}
		ids[i] = id
	}
	return Announced{stream, ids[0], ids[1], ids[2]}, true
}
