package notify_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"cpor/notify"
	"cpor/scheduler"
	"cpor/testkit"
	"cpor/workflow"
)

func newScheduler(t *testing.T, w *testkit.World, d *notify.Digests) *scheduler.Scheduler {
	t.Helper()
	s, err := scheduler.New(w.DB, scheduler.Config{Clock: w.Clock.Now}, d.Handlers(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func runDue(t *testing.T, s *scheduler.Scheduler) {
	t.Helper()
	for {
		n, err := s.RunDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func workflowRequest(claim uuid.UUID) workflow.Request { return workflow.Request{ClaimID: claim} }
