package httpapi_test

import (
	"fmt"
	"slices"
	"testing"

	"cpor/demo"
	"cpor/models"
	"cpor/testkit"
	"cpor/testkit/apitest"
)

// The claims connection over real HTTP: paging both ways, counts, and the
// filters of the portal's and the console's lists.

func TestClaimsConnectionPagingAndFilters(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *testkit.World, srv *apitest.Server) {
		ada, rita, fiona := srv.Client(t, "ada"), srv.Client(t, "rita"), srv.Client(t, "fiona")
		// A few more drafts, so that paging has pages.
		ids := formData(t, ada)
		for i := range 3 {
			tenant, sub := testkit.FreshTarget(t, w, fmt.Sprintf("paging%d", i))
			createDraft(t, ada, claimInput(ids, tenant.String(), fmt.Sprintf("paging%d.onmicrosoft.com", i), sub.String()))
		}

		var contosoTotal, allTotal int64
		w.DB.Model(&models.Claim{}).Where("organization_id = ?", demo.Contoso).Count(&contosoTotal)
		w.DB.Model(&models.Claim{}).Count(&allTotal)

		all := claimsOf(t, ada, map[string]any{"first": 100})
		if all.TotalCount != int(contosoTotal) || len(all.Nodes) != int(contosoTotal) || all.PageInfo.HasNextPage || all.PageInfo.HasPreviousPage {
			t.Fatalf("ada's claims: totalCount %d, %d nodes, want %d: %+v", all.TotalCount, len(all.Nodes), contosoTotal, all.PageInfo)
		}
		for k, n := range all.Nodes {
			if n.Organization.Name != "Contoso Partners" {
				t.Errorf("ada sees a claim of %s", n.Organization.Name)
			}
			if all.Edges[k].Node.ID != n.ID {
				t.Errorf("edges and nodes differ at %d", k)
			}
			if k > 0 && n.CreatedAt > all.Nodes[k-1].CreatedAt {
				t.Errorf("claims not newest first at %d: %s after %s", k, n.CreatedAt, all.Nodes[k-1].CreatedAt)
			}
		}
		order := make([]string, len(all.Nodes))
		for k, n := range all.Nodes {
			order[k] = n.ID
		}

		// Forward, two at a time.
		var forward []string
		var after any
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatal("forward paging does not end")
			}
			p := claimsOf(t, ada, map[string]any{"first": 2, "after": after})
			if p.TotalCount != int(contosoTotal) {
				t.Errorf("totalCount on a page = %d, want %d", p.TotalCount, contosoTotal)
			}
			if pages == 0 && p.PageInfo.HasPreviousPage {
				t.Error("the first page has a previous page")
			}
			if len(p.Edges) == 0 || len(p.Edges) > 2 {
				t.Fatalf("page of %d edges", len(p.Edges))
			}
			if *p.PageInfo.StartCursor != p.Edges[0].Cursor || *p.PageInfo.EndCursor != p.Edges[len(p.Edges)-1].Cursor {
				t.Errorf("start/end cursors do not match the edges: %+v", p.PageInfo)
			}
			for _, e := range p.Edges {
				forward = append(forward, e.Node.ID)
			}
			if !p.PageInfo.HasNextPage {
				break
			}
			after = *p.PageInfo.EndCursor
		}
		if !slices.Equal(forward, order) {
			t.Errorf("forward paging:\n got %v\nwant %v", forward, order)
		}

		// Backward, two at a time, from the end.
		var backward []string
		var before any
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatal("backward paging does not end")
			}
			p := claimsOf(t, ada, map[string]any{"last": 2, "before": before})
			if pages == 0 && p.PageInfo.HasNextPage {
				t.Error("the last page has a next page")
			}
			if len(p.Edges) == 0 || len(p.Edges) > 2 {
				t.Fatalf("page of %d edges", len(p.Edges))
			}
			page := make([]string, len(p.Edges))
			for k, e := range p.Edges {
				page[k] = e.Node.ID
			}
			backward = append(page, backward...)
			if !p.PageInfo.HasPreviousPage {
				break
			}
			before = *p.PageInfo.StartCursor
		}
		if !slices.Equal(backward, order) {
			t.Errorf("backward paging:\n got %v\nwant %v", backward, order)
		}

		// A page in the middle, both ways.
		mid := claimsOf(t, ada, map[string]any{"first": 2, "after": all.Edges[1].Cursor})
		if len(mid.Nodes) != 2 || mid.Nodes[0].ID != order[2] || !mid.PageInfo.HasPreviousPage || !mid.PageInfo.HasNextPage {
			t.Errorf("page after the second claim: %+v", mid)
		}
		mid = claimsOf(t, ada, map[string]any{"last": 2, "before": all.Edges[3].Cursor})
		if len(mid.Nodes) != 2 || mid.Nodes[0].ID != order[1] || mid.Nodes[1].ID != order[2] || !mid.PageInfo.HasPreviousPage || !mid.PageInfo.HasNextPage {
			t.Errorf("page before the fourth claim: %+v", mid)
		}
		// first: 0 gives the count alone; a bad cursor or too large a page is refused.
		if p := claimsOf(t, ada, map[string]any{"first": 0}); len(p.Nodes) != 0 || p.TotalCount != int(contosoTotal) {
			t.Errorf("first: 0 gave %d nodes, totalCount %d", len(p.Nodes), p.TotalCount)
		}
		wantGQLError(t, ada.Do(t, claimsPageQuery, map[string]any{"first": 2, "after": "not-a-cursor"}), "INVALID_INPUT")
		wantGQLError(t, ada.Do(t, claimsPageQuery, map[string]any{"first": 101}), "INVALID_INPUT")

		// The reviewer sees every claim.
		if p := claimsOf(t, rita, map[string]any{"first": 1}); p.TotalCount != int(allTotal) {
			t.Errorf("rita's totalCount = %d, want %d", p.TotalCount, allTotal)
		}

		// Filter by status.
		var submitted int64
		w.DB.Model(&models.Claim{}).Where("status = ?", models.Submitted).Count(&submitted)
		p := claimsOf(t, rita, map[string]any{"filter": map[string]any{"status": []string{"SUBMITTED"}}, "first": 100})
		if p.TotalCount != int(submitted) || len(p.Nodes) != int(submitted) || submitted == 0 {
			t.Errorf("SUBMITTED filter: %d of %d", p.TotalCount, submitted)
		}
		for _, n := range p.Nodes {
			if n.Status != "SUBMITTED" {
				t.Errorf("SUBMITTED filter returned %s", n.Status)
			}
		}
		p = claimsOf(t, ada, map[string]any{"filter": map[string]any{"status": []string{"DRAFT", "APPROVED"}}, "first": 100})
		for _, n := range p.Nodes {
			if n.Status != "DRAFT" && n.Status != "APPROVED" {
				t.Errorf("DRAFT, APPROVED filter returned %s", n.Status)
			}
		}
		if p.TotalCount != 5 { // the demo draft, the demo approval and three drafts above
			t.Errorf("ada's DRAFT and APPROVED claims: %d", p.TotalCount)
		}

		// Overdue: the demo data has one overdue SUBMITTED claim, Contoso's.
		for _, tc := range []struct {
			who  *apitest.Client
			want int
		}{{rita, 1}, {ada, 1}, {fiona, 0}} {
			p := claimsOf(t, tc.who, map[string]any{"filter": map[string]any{"overdue": true}, "first": 100})
			if p.TotalCount != tc.want || len(p.Nodes) != tc.want {
				t.Errorf("overdue claims: %d, want %d", p.TotalCount, tc.want)
			}
			for _, n := range p.Nodes {
				if !n.Overdue || n.Status != "SUBMITTED" {
					t.Errorf("overdue filter returned %+v", n)
				}
			}
		}
		if p := claimsOf(t, rita, map[string]any{"filter": map[string]any{"overdue": false}, "first": 100}); p.TotalCount != int(allTotal)-1 {
			t.Errorf("claims not overdue: %d, want %d", p.TotalCount, allTotal-1)
		}
		for _, n := range claimsOf(t, rita, map[string]any{"filter": map[string]any{"overdue": false}, "first": 100}).Nodes {
			if n.Overdue {
				t.Errorf("overdue: false returned an overdue claim %s", n.ID)
			}
		}

		// Filter by customer, activity, solution area, MPN.
		p = claimsOf(t, rita, map[string]any{"filter": map[string]any{"customerTenantId": demo.Tailspin.String()}, "first": 100})
		if p.TotalCount != 2 {
			t.Errorf("claims on Tailspin: %d, want the two in arbitration", p.TotalCount)
		}
		p = claimsOf(t, rita, map[string]any{"filter": map[string]any{"solutionArea": "MICROSOFT_365"}, "first": 100})
		if p.TotalCount != 5 {
			t.Errorf("Microsoft 365 claims: %d, want 5 (under review, waiting, withdrawn, declined, expired)", p.TotalCount)
		}
		p = claimsOf(t, rita, map[string]any{"filter": map[string]any{"activity": []string{"REVENUE_ASSOCIATION"}}, "first": 100})
		if p.TotalCount != 1 || p.Nodes[0].Organization.Name != "Fabrikam Solutions" {
			t.Errorf("REVENUE_ASSOCIATION claims: %+v", p.Nodes)
		}
		var byMpn int64
		w.DB.Model(&models.Claim{}).Where("mpn_id = ?", mustParseGlobalUUID(t, ids.enrolledMpn)).Count(&byMpn)
		if p := claimsOf(t, ada, map[string]any{"filter": map[string]any{"mpnId": ids.enrolledMpn}, "first": 100}); p.TotalCount != int(byMpn) || byMpn == 0 {
			t.Errorf("claims by MPN: %d, want %d", p.TotalCount, byMpn)
		}
	})
}
