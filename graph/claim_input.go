package graph

import (
	"github.com/google/uuid"

	"cpor/apperr"
	"cpor/claims"
	"cpor/graph/model"
	"cpor/models"
	"cpor/relay"
	"cpor/workflow"
)

func contactInput(in *model.ContactInput) *claims.ContactInput {
	if in == nil {
		return nil
	}
	out := &claims.ContactInput{Name: in.Name, Email: in.Email}
	if in.Title != nil {
		out.Title = *in.Title
	}
	return out
}

// draftIDs parses the global IDs a draft refers to, reporting each bad one.
func draftIDs(productID, mpnID *string) (product, mpn *uuid.UUID, err error) {
	var errs apperr.List
	if product, err = optionalID(productID, relay.TypeProduct, "productId"); err != nil {
		errs = append(errs, err.(*apperr.Error))
	}
	if mpn, err = optionalID(mpnID, relay.TypeMpn, "mpnId"); err != nil {
		errs = append(errs, apperr.New(apperr.MpnNotFound, "mpnId", "That is not an MPN ID; choose one from your MPN list."))
	}
	return product, mpn, errs.Err()
}

func createInput(in model.CreateClaimInput) (claims.DraftInput, error) {
	product, mpn, err := draftIDs(in.ProductID, in.MpnID)
	return claims.DraftInput{
		SolutionArea:     &in.SolutionArea,
		Activity:         &in.Activity,
		CustomerTenantID: &in.CustomerTenantID,
		CustomerDomain:   &in.CustomerDomain,
		Name:             in.Name,
		ProductID:        product,
		SubscriptionID:   in.SubscriptionID,
		MpnID:            mpn,
		CustomerContact:  contactInput(in.CustomerContact),
		PartnerContact:   contactInput(in.PartnerContact),
		Notes:            in.Notes,
	}, err
}

func updateInput(in model.UpdateClaimInput) (claims.DraftInput, error) {
	product, mpn, err := draftIDs(in.ProductID, in.MpnID)
	return claims.DraftInput{
		SolutionArea:     in.SolutionArea,
		Activity:         in.Activity,
		CustomerTenantID: in.CustomerTenantID,
		CustomerDomain:   in.CustomerDomain,
		Name:             in.Name,
		ProductID:        product,
		SubscriptionID:   in.SubscriptionID,
		MpnID:            mpn,
		CustomerContact:  contactInput(in.CustomerContact),
		PartnerContact:   contactInput(in.PartnerContact),
		Notes:            in.Notes,
	}, err
}

func claimFilter(in *model.ClaimFilter) (claims.Filter, error) {
	var f claims.Filter
	if in == nil {
		return f, nil
	}
	f.Statuses, f.Activities, f.SolutionArea, f.Overdue = in.Status, in.Activity, in.SolutionArea, in.Overdue
	if in.Search != nil {
		f.Search = *in.Search
	}
	f.Submitted, f.Decided, f.Updated = timeRange(in.Submitted), timeRange(in.Decided), timeRange(in.Updated)
	var errs apperr.List
	if in.CustomerTenantID != nil {
		t, err := relay.ParseGUID(*in.CustomerTenantID, "filter.customerTenantId", "tenant ID")
		errs.Add(err)
		f.CustomerTenantID = &t
	}
	var err error
	f.MpnID, err = optionalID(in.MpnID, relay.TypeMpn, "filter.mpnId")
	errs.Add(err)
	f.ProductID, err = optionalID(in.ProductID, relay.TypeProduct, "filter.productId")
	errs.Add(err)
	f.OrganizationID, err = optionalID(in.OrganizationID, relay.TypeOrganization, "filter.organizationId")
	errs.Add(err)
	return f, errs.Err()
}

func timeRange(in *model.TimeRange) claims.TimeRange {
	if in == nil {
		return claims.TimeRange{}
	}
	return claims.TimeRange{From: in.From, To: in.To}
}

func claimOrder(in *model.ClaimOrder) claims.Order {
	if in == nil {
		return claims.Order{Field: claims.OrderCreatedAt, Desc: true}
	}
	return claims.Order{Field: claims.OrderField(in.Field), Desc: in.Direction == model.OrderDirectionDesc}
}

// transitionRequest parses a transition mutation's claim ID.
func transitionRequest(claimID string, expectedVersion *int, reason *string) (workflow.Request, error) {
	id, err := relay.ParseUUID(claimID, relay.TypeClaim, "claimId")
	req := workflow.Request{ClaimID: id, ExpectedVersion: expectedVersion}
	if reason != nil {
		req.Reason = *reason
	}
	return req, err
}

var claimActions = map[workflow.Event]model.ClaimAction{
	workflow.Submit:             model.ClaimActionSubmit,
	workflow.StartReview:        model.ClaimActionStartReview,
	workflow.RequestInformation: model.ClaimActionRequestInformation,
	workflow.Escalate:           model.ClaimActionEscalate,
	workflow.Approve:            model.ClaimActionApprove,
	workflow.Reject:             model.ClaimActionReject,
	workflow.Respond:            model.ClaimActionRespond,
	workflow.Withdraw:           model.ClaimActionWithdraw,
	workflow.CustomerDecline:    model.ClaimActionCustomerDecline,
}

func actorOf(ev *models.ClaimEvent) *models.Actor {
	a := ev.Actor()
	return &a
}

// ParseClaimFilter and ParseClaimOrder read a claims filter and order as
// the claims query does, for the CSV export, which takes the same filter
// from a URL and must read its IDs the same way.
func ParseClaimFilter(in *model.ClaimFilter) (claims.Filter, error) { return claimFilter(in) }

// ParseClaimOrder: see ParseClaimFilter.
func ParseClaimOrder(in *model.ClaimOrder) claims.Order { return claimOrder(in) }
