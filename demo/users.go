// Package demo loads demonstration data (partners, customers, products,
// subscriptions that reach every check, and claims in every state) through
// the domain services, and names the demo users tokens are minted for.
package demo

import (
	"github.com/google/uuid"

	"cpor/auth"
)

// Fixed IDs, so demo tokens and examples stay valid across fresh starts.
var (
	Contoso  = uuid.MustParse("0b6d3f2e-1c1a-4c55-9a51-000000000a01")
	Fabrikam = uuid.MustParse("0b6d3f2e-1c1a-4c55-9a51-000000000b01")

	Northwind      = uuid.MustParse("7f3c2a10-5b8e-4d21-9c3a-000000000001")
	Tailspin       = uuid.MustParse("7f3c2a10-5b8e-4d21-9c3a-000000000002")
	Wingtip        = uuid.MustParse("7f3c2a10-5b8e-4d21-9c3a-000000000003")
	AdventureWorks = uuid.MustParse("7f3c2a10-5b8e-4d21-9c3a-000000000004")
	Litware        = uuid.MustParse("7f3c2a10-5b8e-4d21-9c3a-000000000005")
	Woodgrove      = uuid.MustParse("7f3c2a10-5b8e-4d21-9c3a-000000000006")
)

// Subscriptions of the Northwind tenant, one for each subscription check.
var (
	SubActive         = uuid.MustParse("5a1e0000-0000-4000-8000-000000000001")
	SubInGrace        = uuid.MustParse("5a1e0000-0000-4000-8000-000000000002")
	SubExpired        = uuid.MustParse("5a1e0000-0000-4000-8000-000000000003")
	SubNotProvisioned = uuid.MustParse("5a1e0000-0000-4000-8000-000000000004")
	SubCSP            = uuid.MustParse("5a1e0000-0000-4000-8000-000000000005")
	SubNotDynamics    = uuid.MustParse("5a1e0000-0000-4000-8000-000000000006")
	// OrderOfSubActive is the order the active subscription was bought in:
	// an identifier that is not a subscription ID.
	OrderOfSubActive = uuid.MustParse("0dde0000-0000-4000-8000-000000000001")
)

// User is a demo identity with a handle for the token subcommand.
type User struct {
	Handle   string
	Identity auth.Identity
	About    string
}

// Users are the demo identities.
var Users = []User{
	{"ada", auth.Identity{UserID: "ada@contoso.example", Name: "Ada Lovelace", Email: "ada@contoso.example",
		OrganizationID: Contoso, Roles: []auth.Role{auth.GlobalAdmin}}, "Contoso Partners, Global admin"},
	{"ben", auth.Identity{UserID: "ben@contoso.example", Name: "Ben Okafor", Email: "ben@contoso.example",
		OrganizationID: Contoso, Roles: []auth.Role{auth.IncentivesAdmin}}, "Contoso Partners, Incentives admin"},
	{"carl", auth.Identity{UserID: "carl@contoso.example", Name: "Carl Jensen", Email: "carl@contoso.example",
		OrganizationID: Contoso, Roles: []auth.Role{"SALES_AGENT"}}, "Contoso Partners, no admin role (FORBIDDEN)"},
	{"fiona", auth.Identity{UserID: "fiona@fabrikam.example", Name: "Fiona Walsh", Email: "fiona@fabrikam.example",
		OrganizationID: Fabrikam, Roles: []auth.Role{auth.BillingAdmin}}, "Fabrikam Solutions, Billing admin"},
	{"rita", auth.Identity{UserID: "rita@microsoft.example", Name: "Rita Reviewer", Email: "rita@microsoft.example",
		Roles: []auth.Role{auth.Reviewer}}, "Microsoft reviewer"},
	{"oscar", auth.Identity{UserID: "oscar@microsoft.example", Name: "Oscar Operator", Email: "oscar@microsoft.example",
		Roles: []auth.Role{auth.Operator}}, "Microsoft catalog operator"},
	{"chloe", auth.Identity{UserID: "chloe@northwind.example", Name: "Chloe Customer", Email: "chloe@northwind.example",
		TenantID: Northwind, Roles: []auth.Role{auth.CustomerAdmin}}, "Northwind Traders, customer admin"},
}

// FindUser returns the demo user with the handle.
func FindUser(handle string) (User, bool) {
	for _, u := range Users {
		if u.Handle == handle {
			return u, true
		}
	}
	return User{}, false
}
