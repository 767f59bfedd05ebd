package models_test

import (
	"testing"

	"cpor/models"
)

// Claimable is what the schema says: active or in grace, and provisioned.
// Before the fix a PENDING subscription was claimable.
func TestSubscriptionClaimable(t *testing.T) {
	for _, status := range models.SubscriptionStatuses {
		for _, prov := range models.ProvisioningStates {
			s := models.Subscription{Status: status, ProvisioningState: prov}
			inService := status == models.SubscriptionActive || status == models.SubscriptionInGrace
			if s.InService() != inService {
				t.Errorf("%s: InService = %v", status, s.InService())
			}
			if want := inService && prov == models.Provisioned; s.Claimable() != want {
				t.Errorf("%s, %s: Claimable = %v; want %v", status, prov, s.Claimable(), want)
			}
		}
	}
}
