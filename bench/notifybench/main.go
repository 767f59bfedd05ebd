// Command notifybench measures the outbox dispatcher: how many deliveries a
// second it sends to a local receiver (the in-process SMTP server of
// testkit/smtpcatch, or an HTTPS webhook receiver that verifies every
// signature), and the delay from the commit that writes a delivery to its
// successful send (p50/p99), with notifications written at a steady rate
// while it runs.
//
//	go run ./bench/notifybench -channel email -n 2000 -rate 200
//	go run ./bench/notifybench -channel webhook -url postgres://postgres@127.0.0.1:5432/postgres
//
// Without -url it uses a fresh SQLite file in a temporary directory; with
// it, a fresh database created on the server and dropped at the end.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"gorm.io/gorm"

	"cpor/bench/benchkit"
	"cpor/models"
	"cpor/notify"
	"cpor/outbox"
	"cpor/storage"
)

type options struct {
	url         string
	channel     string
	n           int
	rate        int
	concurrency int
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "", "PostgreSQL server URL (a database is created on it); empty: SQLite")
	flag.StringVar(&o.channel, "channel", "email", "email or webhook")
	flag.IntVar(&o.n, "n", 2000, "deliveries per phase")
	flag.IntVar(&o.rate, "rate", 200, "notifications written per second in the delay phase")
	flag.IntVar(&o.concurrency, "concurrency", outbox.DefaultConcurrency, "dispatcher concurrency")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "notifybench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	db, cleanup, err := openDB(ctx, o.url)
	if err != nil {
		return err
	}
	defer cleanup()
	recv, err := newReceiver(ctx, o.channel, db)
	if err != nil {
		return err
	}
	defer recv.close()
	quiet := slog.New(slog.DiscardHandler)
	d, err := outbox.New(db, outbox.Config{Concurrency: o.concurrency}, map[models.Channel]outbox.Sender{recv.channel: recv.sender}, quiet, nil)
	if err != nil {
		return err
	}
	fmt.Printf("database %s, channel %s, concurrency %d\n", storage.DialectOf(db), o.channel, o.concurrency)

	// Throughput: a backlog of n deliveries sent as fast as the dispatcher
	// and the receiver go.
	if err := writeBacklog(ctx, db, recv, o.n); err != nil {
		return err
	}
	start := time.Now()
	sent := 0
	for sent < o.n {
		k, err := d.DispatchDue(ctx, 4*o.concurrency)
		if err != nil {
			return err
		}
		sent += k
	}
	took := time.Since(start)
	if got := recv.received(); got < o.n {
		return fmt.Errorf("the receiver got %d of %d", got, o.n)
	}
	fmt.Printf("throughput: %d deliveries in %s: %.0f deliveries/s\n", o.n, took.Round(time.Millisecond), float64(o.n)/took.Seconds())

	// Delay: notifications written at a steady rate while the dispatcher
	// runs, woken by each commit as in the service.
	recorder := notify.NewRecorder(notify.DefaultRetryWindows, nil)
	recorder.OnCommit(d.Wake)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(runCtx) }()
	since := time.Now()
	tick := time.NewTicker(time.Second / time.Duration(o.rate))
	for range o.n {
		<-tick.C
		if err := storage.InTx(ctx, db, func(tx *storage.Tx) error { return recorder.Write(tx, recv.notice()) }); err != nil {
			stop()
			return err
		}
	}
	tick.Stop()
	deadline := time.Now().Add(time.Minute)
	for pending(db) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	<-done
	delays, err := commitToDelivery(db, since)
	if err != nil {
		return err
	}
	fmt.Printf("commit to delivery at %d notifications/s: %d delivered, p50 %s, p99 %s, max %s\n", o.rate, len(delays),
		pct(delays, 50), pct(delays, 99), pct(delays, 100))
	return nil
}

func pending(db *gorm.DB) int64 {
	var n int64
	db.Model(&models.Delivery{}).Where("status = ?", models.DeliveryPending).Count(&n)
	return n
}

func commitToDelivery(db *gorm.DB, since time.Time) ([]time.Duration, error) {
	var rows []models.Delivery
	if err := db.Where("created_at >= ? AND status = ?", since, models.DeliveryDelivered).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]time.Duration, len(rows))
	for i, r := range rows {
		out[i] = r.DeliveredAt.Sub(r.CreatedAt)
	}
	slices.Sort(out)
	return out, nil
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := (len(ds)*p + 99) / 100
	return ds[min(max(i-1, 0), len(ds)-1)].Round(100 * time.Microsecond)
}

// writeBacklog writes n due deliveries of n notifications, 500 a
// transaction.
func writeBacklog(ctx context.Context, db *gorm.DB, recv *receiver, n int) error {
	recorder := notify.NewRecorder(notify.DefaultRetryWindows, nil)
	for done := 0; done < n; {
		batch := min(500, n-done)
		err := storage.InTx(ctx, db, func(tx *storage.Tx) error {
			ns := make([]models.Notification, batch)
			for i := range ns {
				ns[i] = recv.notice()
			}
			return recorder.Write(tx, ns...)
		})
		if err != nil {
			return err
		}
		done += batch
	}
	return nil
}

// openDB opens a fresh database: a new one on the PostgreSQL server, or a
// SQLite file in a temporary directory.
func openDB(ctx context.Context, url string) (*gorm.DB, func(), error) {
	quiet := slog.New(slog.DiscardHandler)
	if url == "" {
		dir, err := os.MkdirTemp("", "notifybench")
		if err != nil {
			return nil, nil, err
		}
		db, err := storage.Open(ctx, storage.Config{DataDir: dir}, quiet)
		if err != nil {
			return nil, nil, err
		}
		if err := storage.Migrate(ctx, db, quiet); err != nil {
			return nil, nil, err
		}
		return db, func() { _ = storage.Close(db); _ = os.RemoveAll(dir) }, nil
	}
	dbURL, drop, err := benchkit.FreshDatabase(ctx, url, "cpor_notifybench")
	if err != nil {
		return nil, nil, err
	}
	db, err := storage.Open(ctx, storage.Config{DatabaseURL: dbURL}, quiet)
	if err != nil {
		drop()
		return nil, nil, err
	}
	if err := storage.Migrate(ctx, db, quiet); err != nil {
		drop()
		return nil, nil, err
	}
	return db, func() { _ = storage.Close(db); drop() }, nil
}
