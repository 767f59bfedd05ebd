package workflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"cpor/claims"
	"cpor/models"
	"cpor/scheduler"
	"cpor/storage"
)

// The kinds of time-driven work the workflow leaves with the scheduler,
// each about one claim.
const (
	JobLapse           = "claim.lapse"
	JobResponseWarning = "claim.response-warning"
	JobExpire          = "claim.expire"
	JobExpiryWarning   = "claim.expiry-warning"
)

// errNotDue refuses a system event whose moment has not come (the draft
// was touched, the deadline moved); dueEvent reschedules before it fires,
// so this guards the machine itself.
var errNotDue = errors.New("not due")

func (s *Service) scheduleResponse(cc *claimChange, due time.Time) error {
	warn := subtractBusinessDays(s, due, s.cfg.ResponseWarningBusinessDays)
	if err := scheduler.Schedule(cc.tx, JobLapse, cc.claim.ID, due); err != nil {
		return err
	}
	return scheduler.Schedule(cc.tx, JobResponseWarning, cc.claim.ID, warn)
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

func (s *Service) cancelResponse(cc *claimChange) error {
	return s.cancel(cc, JobLapse, JobResponseWarning)
}

func (s *Service) cancelDraftDeadlines(cc *claimChange) error {
	return s.cancel(cc, JobExpire, JobExpiryWarning)
}

func (s *Service) cancelAllDeadlines(cc *claimChange) error {
	return s.cancel(cc, JobLapse, JobResponseWarning, JobExpire, JobExpiryWarning)
}

func (s *Service) cancel(cc *claimChange, kinds ...string) error {
	for _, k := range kinds {
		if err := scheduler.Cancel(cc.tx, k, cc.claim.ID); err != nil {
			return err
		}
	}
	return nil
}

// ScheduleDraft leaves a new draft's expiry and its warning with the
// scheduler; claims calls it in the transaction that creates the draft.
func (s *Service) ScheduleDraft(tx *storage.Tx, c *models.Claim) error {
	end := c.UpdatedAt.Add(s.cfg.DraftLifetime)
	if err := scheduler.Schedule(tx, JobExpire, c.ID, end); err != nil {
		return err
	}
	return scheduler.Schedule(tx, JobExpiryWarning, c.ID, end.Add(-s.cfg.DraftWarning))
}

// DueWork returns the workflow's handlers of due work, by kind. Each runs
// in the scheduler's transaction, which holds the item; each re-derives
// the truth from the claim, so that work made obsolete by a later change
// (an answer, a touched draft) is dropped or moved, never misfired.
func (s *Service) DueWork() map[string]scheduler.Handler {
	return map[string]scheduler.Handler{
		JobLapse:           s.dueLapse,
		JobExpire:          s.dueExpire,
		JobResponseWarning: s.dueResponseWarning,
		JobExpiryWarning:   s.dueExpiryWarning,
	}
}

func (s *Service) dueLapse(ctx context.Context, tx *storage.Tx, job scheduler.Job, now time.Time) (scheduler.Outcome, error) {
	return s.dueEvent(ctx, tx, job.Subject, now, Lapse, func(c *models.Claim) *time.Time { return c.ResponseDueAt })
}

func (s *Service) dueExpire(ctx context.Context, tx *storage.Tx, job scheduler.Job, now time.Time) (scheduler.Outcome, error) {
	return s.dueEvent(ctx, tx, job.Subject, now, Expire, func(c *models.Claim) *time.Time {
		end := c.UpdatedAt.Add(s.cfg.DraftLifetime)
		return &end
	})
}

// dueEvent fires a system event; a claim that no longer takes it is
// obsolete work, one whose moment moved is tried again then.
func (s *Service) dueEvent(ctx context.Context, tx *storage.Tx, claimID uuid.UUID, now time.Time, event Event,
	when func(*models.Claim) *time.Time) (scheduler.Outcome, error) {
	ch := &change{tx: tx, now: now}
	cc, err := s.lockClaim(ch, claimID, event)
	if err != nil {
		return scheduler.Outcome{}, err
	}
	if _, err := s.claims.Next(StateOf(cc.claim), event, RoleSystem); err != nil {
		return scheduler.Done("obsolete"), nil
	}
	if at := when(cc.claim); at != nil && ch.now.Before(*at) {
		return scheduler.Reschedule(*at), nil
	}
	if _, err := s.claims.Fire(ctx, cc, StateOf(cc.claim), event, RoleSystem); err != nil {
		return scheduler.Outcome{}, err
	}
	return scheduler.Done("fired"), s.log.Append(tx, ch.events...)
}

func (s *Service) dueResponseWarning(ctx context.Context, tx *storage.Tx, job scheduler.Job, now time.Time) (scheduler.Outcome, error) {
	return s.dueWarning(ctx, tx, job.Subject, now, models.ActionRequired, func(c *models.Claim) (time.Time, time.Time, string) {
		due := *c.ResponseDueAt
		return subtractBusinessDays(s, due, s.cfg.ResponseWarningBusinessDays), due, fmt.Sprintf(
			"Reminder: the reviewer's information request must be answered by %s, or the claim is rejected then.",
			due.Format("Monday 2 January 2006 15:04 MST"))
	})
}

func (s *Service) dueExpiryWarning(ctx context.Context, tx *storage.Tx, job scheduler.Job, now time.Time) (scheduler.Outcome, error) {
	return s.dueWarning(ctx, tx, job.Subject, now, models.Draft, func(c *models.Claim) (time.Time, time.Time, string) {
		end := c.UpdatedAt.Add(s.cfg.DraftLifetime)
		return end.Add(-s.cfg.DraftWarning), end, fmt.Sprintf(
			"Reminder: this draft expires on %s unless it is changed or submitted before then.",
			end.Format("Monday 2 January 2006"))
	})
}

// dueWarning posts a deadline warning in the claim's thread and history,
// when the claim is still in status and the warning's moment has come.
func (s *Service) dueWarning(_ context.Context, tx *storage.Tx, claimID uuid.UUID, now time.Time, status models.ClaimStatus,
	moments func(*models.Claim) (warnAt, deadline time.Time, text string)) (scheduler.Outcome, error) {
	ch := &change{tx: tx, now: now}
	cc, err := s.lockClaim(ch, claimID, "")
	if err != nil {
		return scheduler.Outcome{}, err
	}
	c := cc.claim
	if c.Status != status {
		return scheduler.Done("obsolete"), nil
	}
	warnAt, deadline, text := moments(c)
	switch {
	case ch.now.Before(warnAt):
		return scheduler.Reschedule(warnAt), nil
	case !ch.now.Before(deadline):
		return scheduler.Done("obsolete"), nil // the deadline itself is due; no point warning
	}
	ev := claims.SystemEvent(c, models.EventDeadlineWarning)
	ev.Reason = text
	ch.events = append(ch.events, ev)
	if err := s.systemComment(ch, c, text); err != nil {
		return scheduler.Outcome{}, err
	}
	return scheduler.Done("warned"), s.log.Append(tx, ch.events...)
}
