package outbox_test

import (
	"math"
	"testing"
	"time"

	"gorm.io/gorm"

	"cpor/models"
	"cpor/outbox"
	"cpor/storage/storagetest"
	"cpor/testkit/fakeclock"
)

// TestMetricsAfterAPass: a pass counts its attempts by result, the delay
// from commit to delivery, and the outbox depth and age it leaves.
func TestMetricsAfterAPass(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		c := fakeclock.At(t0)
		now := c.Now()
		hooks, mails := newFake(), newFake()
		d, reg := newDispatcher(t, db, c, outbox.Config{}, map[models.Channel]outbox.Sender{
			models.ChannelWebhook: hooks, models.ChannelEmail: mails,
		})

		delivered := due(models.ChannelWebhook, now)
		delivered.CreatedAt = now.Add(-30 * time.Second)
		retried := due(models.ChannelWebhook, now)
		retried.CreatedAt = now.Add(-10 * time.Second)
		refused := due(models.ChannelWebhook, now)
		refused.CreatedAt = now.Add(-time.Hour) // counted no more once failed
		mailed := due(models.ChannelEmail, now)
		mailed.CreatedAt = now.Add(-2 * time.Minute)
		later := due(models.ChannelEmail, now.Add(time.Hour))
		later.CreatedAt = now.Add(-5 * time.Second)
		insert(t, db, delivered, retried, refused, mailed, later)
		hooks.FailFor(retried.ID, temporary(503))
		hooks.FailFor(refused.ID, permanent(410))

		if n := dispatch(t, d, 100); n != 4 {
			t.Fatalf("took %d rows, want 4", n)
		}

		values := []struct {
			name   string
			labels map[string]string
			want   float64
		}{
			{"cpor_outbox_pending", map[string]string{"channel": "WEBHOOK"}, 1},
			{"cpor_outbox_pending", map[string]string{"channel": "EMAIL"}, 1},
			{"cpor_outbox_oldest_pending_seconds", map[string]string{"channel": "WEBHOOK"}, 10},
			{"cpor_outbox_oldest_pending_seconds", map[string]string{"channel": "EMAIL"}, 5},
			{"cpor_outbox_attempts_total", map[string]string{"channel": "WEBHOOK", "result": "delivered"}, 1},
			{"cpor_outbox_attempts_total", map[string]string{"channel": "WEBHOOK", "result": "retry"}, 1},
			{"cpor_outbox_attempts_total", map[string]string{"channel": "WEBHOOK", "result": "failed"}, 1},
			{"cpor_outbox_attempts_total", map[string]string{"channel": "EMAIL", "result": "delivered"}, 1},
			{"cpor_outbox_failed_total", map[string]string{"channel": "WEBHOOK"}, 1},
		}
		for _, v := range values {
			m := series(t, reg, v.name, v.labels)
			if m == nil {
				t.Errorf("%s%v missing", v.name, v.labels)
				continue
			}
			got := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			if math.Abs(got-v.want) > 1e-9 {
				t.Errorf("%s%v = %v, want %v", v.name, v.labels, got, v.want)
			}
		}
		for name, want := range map[string]int{
			"cpor_outbox_attempts_total": 4, // no e-mail retried or failed
			"cpor_outbox_failed_total":   1,
		} {
			if n := seriesCount(t, reg, name); n != want {
				t.Errorf("%s has %d series, want %d", name, n, want)
			}
		}

		histograms := []struct {
			name    string
			channel string
			count   uint64
			sum     float64 // negative: not checked
		}{
			{"cpor_outbox_delivery_delay_seconds", "WEBHOOK", 1, 30},
			{"cpor_outbox_delivery_delay_seconds", "EMAIL", 1, 120},
			{"cpor_outbox_attempt_seconds", "WEBHOOK", 3, -1},
			{"cpor_outbox_attempt_seconds", "EMAIL", 1, -1},
		}
		for _, h := range histograms {
			m := series(t, reg, h.name, map[string]string{"channel": h.channel})
			if m == nil {
				t.Errorf("%s{channel=%s} missing", h.name, h.channel)
				continue
			}
			got := m.GetHistogram()
			if got.GetSampleCount() != h.count || (h.sum >= 0 && math.Abs(got.GetSampleSum()-h.sum) > 1e-9) {
				t.Errorf("%s{channel=%s}: %d samples summing to %v, want %d summing to %v",
					h.name, h.channel, got.GetSampleCount(), got.GetSampleSum(), h.count, h.sum)
			}
		}

		// The retry delivered an hour on: the depth drops, the delay counts
		// from the commit.
		c.Advance(time.Hour)
		hooks.FailFor(retried.ID, outbox.Result{})
		if n := dispatch(t, d, 100); n != 2 {
			t.Fatalf("an hour on took %d rows, want 2", n)
		}
		for _, ch := range []string{"WEBHOOK", "EMAIL"} {
			if m := series(t, reg, "cpor_outbox_pending", map[string]string{"channel": ch}); m == nil || m.GetGauge().GetValue() != 0 {
				t.Errorf("cpor_outbox_pending{channel=%s} = %v, want 0", ch, m)
			}
		}
		m := series(t, reg, "cpor_outbox_delivery_delay_seconds", map[string]string{"channel": "WEBHOOK"})
		if h := m.GetHistogram(); h.GetSampleCount() != 2 || math.Abs(h.GetSampleSum()-(30+3600+10)) > 1e-9 {
			t.Errorf("webhook delay: %d samples summing to %v, want 2 summing to %v", h.GetSampleCount(), h.GetSampleSum(), 30+3600+10)
		}
	})
}

// TestConfigRefused: New refuses settings it cannot keep its promises
// with, and a dispatcher with nothing to send through.
func TestConfigRefused(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *gorm.DB) {
		senders := map[models.Channel]outbox.Sender{models.ChannelWebhook: newFake()}
		for _, tc := range []struct {
			name    string
			cfg     outbox.Config
			senders map[models.Channel]outbox.Sender
			ok      bool
		}{
			{"defaults", outbox.Config{}, senders, true},
			{"lease just past the attempt", outbox.Config{AttemptTimeout: time.Second, Lease: time.Second + time.Microsecond}, senders, true},
			{"backoff max equal to base", outbox.Config{BackoffBase: time.Minute, BackoffMax: time.Minute}, senders, true},
			{"lease as long as the attempt", outbox.Config{AttemptTimeout: time.Minute, Lease: time.Minute}, senders, false},
			{"lease shorter than the attempt", outbox.Config{AttemptTimeout: time.Minute, Lease: time.Second}, senders, false},
			{"lease shorter than the default attempt", outbox.Config{Lease: outbox.DefaultAttemptTimeout / 2}, senders, false},
			{"attempt longer than the default lease", outbox.Config{AttemptTimeout: outbox.DefaultLease}, senders, false},
			{"negative interval", outbox.Config{Interval: -time.Second}, senders, false},
			{"negative concurrency", outbox.Config{Concurrency: -1}, senders, false},
			{"negative attempt timeout", outbox.Config{AttemptTimeout: -time.Second}, senders, false},
			{"negative lease", outbox.Config{Lease: -time.Second}, senders, false},
			{"negative backoff base", outbox.Config{BackoffBase: -time.Second}, senders, false},
			{"negative backoff max", outbox.Config{BackoffMax: -time.Second}, senders, false},
			{"backoff max below base", outbox.Config{BackoffBase: time.Minute, BackoffMax: time.Second}, senders, false},
			{"backoff max below the default base", outbox.Config{BackoffMax: outbox.DefaultBackoffBase / 2}, senders, false},
			{"no senders", outbox.Config{}, map[models.Channel]outbox.Sender{}, false},
			{"nil senders", outbox.Config{}, nil, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				d, err := outbox.New(db, tc.cfg, tc.senders, nil, nil)
				if tc.ok && (err != nil || d == nil) {
					t.Errorf("refused: %v", err)
				}
				if !tc.ok && (err == nil || d != nil) {
					t.Errorf("accepted (%v, %v)", d, err)
				}
			})
		}
	})
}
