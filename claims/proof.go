package claims

import (
	"time"

	"cpor/apperr"
	"cpor/models"
)

// executionDay is the day a document's work was done: the given day, or
// the upload's (UTC) when none is given. Work cannot have been done after
// today (UTC).
func executionDay(given *models.Date, now time.Time) (models.Date, error) {
	today := models.DateOf(now)
	if given == nil {
		return today, nil
	}
	if given.After(today) {
		return models.Date{}, apperr.Invalidf("executedOn",
			"The work cannot have been done after today (%s, UTC); give the day it was done, or leave executedOn out for today.", today)
	}
	return *given, nil
}

// MonthsBefore is the same day months earlier, or the last day of that
// month when it is shorter: 12 months before 29 February 2024 is 28
// February 2023, and one month before 31 March is the end of February.
func MonthsBefore(day models.Date, months int) models.Date {
	t := day.Time()
	first := time.Date(t.Year(), t.Month()-time.Month(months), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return models.NewDate(first.Year(), first.Month(), min(t.Day(), last))
}

// ProofRecency fails with POE_TOO_OLD when the newest proof of a claim
// being submitted shows work done more than maxAgeMonths before today
// (UTC): a claim rests on recent work. Work done exactly maxAgeMonths ago
// (MonthsBefore) is recent enough.
func ProofRecency(newest models.Date, now time.Time, maxAgeMonths int) *apperr.Error {
	oldest := MonthsBefore(models.DateOf(now), maxAgeMonths)
	if !newest.Before(oldest) {
		return nil
	}
	return apperr.New(apperr.ProofOfExecutionTooOld, "proofOfExecution",
		"The newest proof of execution shows work done on %s, more than %d months ago; attach proof of execution of work done on %s or later, then submit again.",
		newest, maxAgeMonths, oldest)
}

// CheckProofRecency is ProofRecency with the service's limit, for a claim
// whose newest proof day was read as it was locked (Changing.NewestProof);
// nil when there is no proof, which PROOF_OF_EXECUTION_REQUIRED reports.
func (s *Service) CheckProofRecency(newest *models.Date, now time.Time) *apperr.Error {
	if newest == nil {
		return nil
	}
	months := s.limits.ProofMaxAgeMonths
	if months <= 0 { // limits built without it
		months = DefaultDocumentLimits.ProofMaxAgeMonths
	}
	return ProofRecency(*newest, now, months)
}
