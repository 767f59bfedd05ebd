// Package catalog holds the reference data a claim is checked against
// (customer tenants and their domains, products and workloads,
// subscriptions, MPNs) and the rules of docs/product.md §4 that check a claim
// against it.
package catalog

import (
	"strings"

	"cpor/models"
)

// ActivityInfo describes one activity of a solution area.
type ActivityInfo struct {
	SolutionArea      models.SolutionArea
	Activity          models.Activity
	Description       string
	IncentiveEligible bool
	// PurchaseChannels lists the channels a claimed subscription may come
	// from; empty means any channel.
	PurchaseChannels []models.PurchaseChannel
}

var businessAppChannels = []models.PurchaseChannel{models.VolumeLicensing, models.WebDirect}

// activities is the table of docs/product.md §3.2: any pair not listed is
// ACTIVITY_NOT_ALLOWED.
var activities = []ActivityInfo{
	{models.BusinessApplications, models.Presales,
		"Influenced the purchase of an eligible product; pre-sale incentives.", true, businessAppChannels},
	{models.BusinessApplications, models.Usage,
		"Drove adoption and usage of an eligible workload; usage incentives.", true, businessAppChannels},
	{models.BusinessApplications, models.RevenueAssociation,
		"Influenced the selection as a business influencer; revenue association only, no incentive payment.", false, businessAppChannels},
	{models.Microsoft365, models.Usage,
		"Drove adoption and usage of an eligible workload.", true, nil},
}

// Activities returns the activities of a solution area.
func Activities(area models.SolutionArea) []ActivityInfo {
	var out []ActivityInfo
	for _, a := range activities {
		if a.SolutionArea == area {
			out = append(out, a)
		}
	}
	return out
}

// LookupActivity returns the activity of the area, if the pair is allowed.
func LookupActivity(area models.SolutionArea, act models.Activity) (ActivityInfo, bool) {
	for _, a := range activities {
		if a.SolutionArea == area && a.Activity == act {
			return a, true
		}
	}
	return ActivityInfo{}, false
}

func activityNames(area models.SolutionArea) string {
	var names []string
	for _, a := range Activities(area) {
		names = append(names, string(a.Activity))
	}
	return strings.Join(names, ", ")
}
