package workflow

import (
	"context"
	"fmt"
	"time"

	"cpor/claims"
	"cpor/models"
	"cpor/scheduler"
	"cpor/storage"
)

// The kinds of time-driven work the workflow leaves with the scheduler,
// each about one claim: one job per deadline, due first at its warning,
// which warns and moves the job to the deadline itself, where it fires.
const (
	JobLapse  = "claim.response-deadline"
	JobExpire = "claim.draft-deadline"
)

// scheduleResponse leaves the answer's deadline with the scheduler, due
// first at its warning.
func (s *Service) scheduleResponse(cc *claimChange, due time.Time) error {
	return scheduler.Schedule(cc.tx, JobLapse, cc.claim.ID, s.responseWarning(due))
}

func (s *Service) responseWarning(due time.Time) time.Time {
	return subtractBusinessDays(s, due, s.cfg.ResponseWarningBusinessDays)
}

// subtractBusinessDays is the moment n business days before t.
func subtractBusinessDays(s *Service, t time.Time, n int) time.Time {
	for n > 0 {
		t = t.AddDate(0, 0, -1)
		if s.calendar.IsBusinessDay(t) {
			n--
		}
	}
	return t
}

// cancelDeadlines drops the deadline of the state the claim leaves: a
// draft's expiry, or a waiting claim's lapse.
func (s *Service) cancelDeadlines(cc *claimChange, from State) error {
	switch {
	case from == Draft:
		return scheduler.Cancel(cc.tx, JobExpire, cc.claim.ID)
	case from == WaitingInReview || from == WaitingInArbitration:
		return scheduler.Cancel(cc.tx, JobLapse, cc.claim.ID)
	}
	return nil
}

// ScheduleDraft leaves a new draft's expiry with the scheduler, due first
// at its warning; claims calls it in the transaction that creates the
// draft.
func (s *Service) ScheduleDraft(tx *storage.Tx, c *models.Claim) error {
	return scheduler.Add(tx, JobExpire, c.ID, s.draftEnd(c).Add(-s.cfg.DraftWarning))
}

func (s *Service) draftEnd(c *models.Claim) time.Time { return c.UpdatedAt.Add(s.cfg.DraftLifetime) }

// DueWork returns the workflow's handlers of due work, by kind. Each runs
// in the scheduler's transaction, which holds the job; each re-derives the
// truth from the claim, so that work made obsolete by a later change (an
// answer, a touched draft) is dropped or moved, never misfired.
func (s *Service) DueWork() map[string]scheduler.Handler {
	return map[string]scheduler.Handler{
		JobLapse: func(ctx context.Context, tx *storage.Tx, job scheduler.Job, now time.Time) (scheduler.Outcome, error) {
			return s.dueDeadline(ctx, tx, job, now, Lapse, func(c *models.Claim) (time.Time, time.Time, string) {
				due := *c.ResponseDueAt
				return s.responseWarning(due), due, fmt.Sprintf(
					"Reminder: the reviewer's information request must be answered by %s, or the claim is rejected then.",
					due.Format("Monday 2 January 2006 15:04 MST"))
			})
		},
		JobExpire: func(ctx context.Context, tx *storage.Tx, job scheduler.Job, now time.Time) (scheduler.Outcome, error) {
			return s.dueDeadline(ctx, tx, job, now, Expire, func(c *models.Claim) (time.Time, time.Time, string) {
				end := s.draftEnd(c)
				return end.Add(-s.cfg.DraftWarning), end, fmt.Sprintf(
					"Reminder: this draft expires on %s unless it is changed or submitted before then.",
					end.Format("Monday 2 January 2006"))
			})
		},
	}
}

// dueDeadline runs a claim's deadline job: before the warning it moves the
// job there; between the warning and the deadline it posts the warning in
// the claim's thread and history and moves the job to the deadline; at the
// deadline it fires the event. A claim that no longer takes the event is
// obsolete work.
func (s *Service) dueDeadline(ctx context.Context, tx *storage.Tx, job scheduler.Job, now time.Time, event Event,
	moments func(*models.Claim) (warnAt, deadline time.Time, text string)) (scheduler.Outcome, error) {
	var out scheduler.Outcome
	err := s.within(tx, nil, now, func(ch *change) error {
		cc, err := s.lockClaim(ch, job.Subject, event, false)
		if err != nil {
			return err
		}
		if _, err := s.claims.Next(StateOf(cc.claim), event, RoleSystem); err != nil {
			out = scheduler.Done("obsolete")
			return nil
		}
		warnAt, deadline, text := moments(cc.claim)
		switch {
		case now.Before(warnAt):
			out = scheduler.Reschedule(warnAt)
			return nil
		case now.Before(deadline):
			out = scheduler.Reschedule(deadline)
			return s.warn(ch, cc.claim, text)
		}
		out = scheduler.Done("fired")
		_, err = s.claims.Fire(ctx, cc, StateOf(cc.claim), event, RoleSystem)
		return err
	})
	return out, err
}

// warn posts a deadline warning in the claim's thread and history.
func (s *Service) warn(ch *change, c *models.Claim, text string) error {
	ev := claims.SystemEvent(c, models.EventDeadlineWarning)
	ev.Reason = text
	ch.events = append(ch.events, ev)
	ch.noticed(ev, c)
	return s.systemComment(ch, c, text)
}
