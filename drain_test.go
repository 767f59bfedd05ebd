package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"cpor/auth"
	"cpor/demo"
	"cpor/storage"
	"cpor/testkit"
	"cpor/testkit/apitest"
)

// TestMain lets the test binary be the server: the drain test starts it as
// a real process and signals it.
func TestMain(m *testing.M) {
	if os.Getenv("CPOR_TEST_AS_SERVER") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

const drainSecret = "drain-test-secret-of-at-least-32-bytes"

// serverProcess is the service running as a child process.
type serverProcess struct {
	cmd  *exec.Cmd
	url  string
	done chan error
	logs *syncBuffer
}

func startServer(t *testing.T, cfg storage.Config, env ...string) *serverProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(append(os.Environ(), env...),
		"CPOR_TEST_AS_SERVER=1", "CPOR_ENV=production", "CPOR_ADDR=127.0.0.1:0", "CPOR_ADMIN_ADDR=off",
		"CPOR_JWT_SECRET="+drainSecret, "CPOR_LOG_FORMAT=json", "CPOR_SHUTDOWN_GRACE=20s",
		"CPOR_BUDGET=off", "CPOR_DATA_DIR="+cfg.DataDir, "DATABASE_URL="+cfg.DatabaseURL)
	logs := &syncBuffer{}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProcess{cmd: cmd, done: make(chan error, 1), logs: logs}
	addr := make(chan string, 1)
	go func() {
		listening := regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(logs, sc.Text())
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case a := <-addr:
		p.url = "http://" + a
	case <-time.After(60 * time.Second):
		t.Fatalf("the server did not start:\n%s", logs.String())
	}
	return p
}

// stop waits for the process to exit after a signal; it must exit cleanly.
func (p *serverProcess) waitExit(t *testing.T) {
	t.Helper()
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("the server exited with %v:\n%s", err, p.logs.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the server did not stop:\n%s", p.logs.String())
	}
}

func (p *serverProcess) post(token, contentType string, body io.Reader, length int64) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, p.url+"/graphql", body)
	if err != nil {
		return 0, nil, err
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

func (p *serverProcess) query(t *testing.T, token, query string, vars map[string]any, into any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	status, raw, err := p.post(token, "application/json", bytes.NewReader(body), int64(len(body)))
	if err != nil || status != http.StatusOK {
		t.Fatalf("%s: HTTP %d %v %s", query, status, err, raw)
	}
	var resp struct {
		Data   json.RawMessage
		Errors []any
	}
	if err := json.Unmarshal(raw, &resp); err != nil || len(resp.Errors) > 0 {
		t.Fatalf("%s: %s", query, raw)
	}
	if err := json.Unmarshal(resp.Data, into); err != nil {
		t.Fatal(err)
	}
}

func demoToken(t *testing.T, handle string) string {
	t.Helper()
	u, _ := demo.FindUser(handle)
	tok, err := auth.Mint([]byte(drainSecret), u.Identity, "cpor", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestSIGTERMLosesNoWrites sends SIGTERM to a real server process while a
// 3 MB proof of execution is being uploaded, and again during a burst of
// mutations. Every request either completes with its real answer and its
// data stored, or fails in a way the client sees; none answers 200 with
// nothing stored.
func TestSIGTERMLosesNoWrites(t *testing.T) {
	testkit.Each(t, func(t *testing.T, w *testkit.World) {
		cfg := w.Storage
		if cfg.DatabaseURL == "" {
			cfg.DataDir = sqliteDir(t, w)
		}
		ada := demoToken(t, "ada")

		srv := startServer(t, cfg)
		var drafts struct {
			Claims struct{ Nodes []struct{ ID string } }
		}
		srv.query(t, ada, `{ claims(filter: {status: [DRAFT]}, first: 1) { nodes { id } } }`, nil, &drafts)
		if len(drafts.Claims.Nodes) == 0 {
			t.Fatal("no draft to attach to")
		}
		claimID := drafts.Claims.Nodes[0].ID
		sum := uploadThroughSIGTERM(t, srv, ada, claimID)
		srv.waitExit(t)

		srv = startServer(t, cfg, "CPOR_DRAIN_DELAY=300ms")
		subscriber := subscribeThroughSIGTERM(t, srv, demoToken(t, "rita"), claimID)
		readiness := watchReadiness(srv)
		acknowledged := burstThroughSIGTERM(t, srv, ada, claimID)
		srv.waitExit(t)
		subscriber.check(t)
		if !<-readiness {
			t.Error("/readyz never answered 503 during the drain delay")
		}

		srv = startServer(t, cfg)
		var stored struct {
			Claim struct {
				ProofOfExecution struct{ Nodes []struct{ Sha256 string } }
			}
		}
		srv.query(t, ada, `query($id: ID!) { claim(id: $id) { proofOfExecution(first: 100) { nodes { sha256 } } } }`,
			map[string]any{"id": claimID}, &stored)
		found := false
		for _, doc := range stored.Claim.ProofOfExecution.Nodes {
			found = found || doc.Sha256 == sum
		}
		if !found {
			t.Errorf("the upload answered 200 but its document %s is not stored", sum)
		}
		for len(acknowledged) > 0 {
			batch := acknowledged[:min(len(acknowledged), 50)]
			acknowledged = acknowledged[len(batch):]
			var comments struct{ Nodes []*struct{ ID string } }
			srv.query(t, ada, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": batch}, &comments)
			for i, c := range comments.Nodes {
				if c == nil || c.ID != batch[i] {
					t.Errorf("comment %s was acknowledged but is not stored", batch[i])
				}
			}
		}
		_ = srv.cmd.Process.Signal(syscall.SIGTERM)
		srv.waitExit(t)
	})
}

// subscriberEnd is how a live subscription held across the signal ended.
type subscriberEnd struct {
	done   chan struct{}
	events int
	code   string // extensions.code of the error that ended it
	after  string // extensions.after: where to resume
	last   string // the cursor of the last event received
	close  websocket.StatusCode
}

// subscribeThroughSIGTERM holds a subscription to the claim's status (which
// the burst of comments does not change: a quiet subscriber, as most are)
// until the server closes the connection.
func subscribeThroughSIGTERM(t *testing.T, srv *serverProcess, token, claimID string) *subscriberEnd {
	t.Helper()
	ws := (&apitest.Server{Server: &httptest.Server{URL: srv.url}}).DialWS(t, "graphql-transport-ws", nil)
	ws.Init(token)
	ws.Subscribe("c", `subscription($id: ID) { claimStatusChanged(claimId: $id) { cursor } }`, map[string]any{"id": claimID})
	ws.Ping(10 * time.Second) // subscribed once the server has read past it
	end := &subscriberEnd{done: make(chan struct{})}
	go func() {
		defer close(end.done)
		for {
			m, err := ws.Read(time.Minute)
			if err != nil {
				end.close = websocket.CloseStatus(err)
				return
			}
			switch m.Type {
			case "next":
				var p struct {
					Data struct{ ClaimStatusChanged struct{ Cursor string } }
				}
				_ = json.Unmarshal(m.Payload, &p)
				end.events++
				end.last = p.Data.ClaimStatusChanged.Cursor
			case "error":
				var errs []struct{ Extensions map[string]any }
				_ = json.Unmarshal(m.Payload, &errs)
				if len(errs) > 0 {
					end.code, _ = errs[0].Extensions["code"].(string)
					end.after, _ = errs[0].Extensions["after"].(string)
				}
			}
		}
	}()
	return end
}

// check: the subscriber was told the server is going away and where to
// resume (after the last event it got, or where it started), and then the
// connection closed with 1001.
func (e *subscriberEnd) check(t *testing.T) {
	t.Helper()
	select {
	case <-e.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the subscriber's connection outlived the server")
	}
	if e.code != "SERVER_SHUTTING_DOWN" || e.close != websocket.StatusGoingAway {
		t.Errorf("subscriber ended with %q and close %d, want SERVER_SHUTTING_DOWN and 1001", e.code, e.close)
	}
	if e.after == "" || (e.events > 0 && e.after != e.last) {
		t.Errorf("subscriber got %d events, last cursor %q, told to resume after %q", e.events, e.last, e.after)
	}
}

// watchReadiness polls /readyz until the server stops answering and
// reports whether it saw the drain (503) first.
func watchReadiness(srv *serverProcess) <-chan bool {
	saw := make(chan bool, 1)
	go func() {
		for {
			resp, err := http.Get(srv.url + "/readyz")
			if err != nil {
				saw <- false
				return
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusServiceUnavailable {
				saw <- true
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return saw
}

// sqliteDir is the SQLite world's data directory, where the server process
// opens the same file.
func sqliteDir(t *testing.T, w *testkit.World) string {
	t.Helper()
	if w.Storage.DataDir == "" {
		t.Fatal("the SQLite world has no data directory")
	}
	return w.Storage.DataDir
}

// uploadThroughSIGTERM streams a 3 MB PDF, signals the server after the
// first megabyte, sends the rest, and returns the file's SHA-256 once the
// server has answered with it.
func uploadThroughSIGTERM(t *testing.T, srv *serverProcess, token, claimID string) string {
	t.Helper()
	content := append([]byte(nil), testkit.PDF...)
	content = append(content, bytes.Repeat([]byte("% padding to make the file large\n"), 3<<20/34)...)
	sum := sha256.Sum256(content)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{
		"query":     `mutation($id: ID!, $f: Upload!) { attachProofOfExecution(input: {claimId: $id, file: $f}) { proofOfExecution { sha256 } userErrors { code message } } }`,
		"variables": map[string]any{"id": claimID, "f": nil},
	})
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0":["variables.f"]}`)
	fw, _ := mw.CreateFormFile("0", "large proof.pdf")
	_, _ = fw.Write(content)
	_ = mw.Close()

	pr, pw := io.Pipe()
	go func() {
		raw := body.Bytes()
		_, _ = pw.Write(raw[:1<<20])
		_ = srv.cmd.Process.Signal(syscall.SIGTERM)
		time.Sleep(300 * time.Millisecond) // the drain has begun: the listener is closed
		for rest := raw[1<<20:]; len(rest) > 0; {
			n := min(len(rest), 256<<10)
			_, _ = pw.Write(rest[:n])
			rest = rest[n:]
			time.Sleep(20 * time.Millisecond)
		}
		_ = pw.Close()
	}()
	status, raw, err := srv.post(token, mw.FormDataContentType(), pr, int64(body.Len()))
	if err != nil || status != http.StatusOK {
		t.Fatalf("upload across SIGTERM: HTTP %d %v %s\n%s", status, err, raw, srv.logs.String())
	}
	var resp struct {
		Data struct {
			AttachProofOfExecution struct {
				ProofOfExecution *struct{ Sha256 string }
				UserErrors       []any
			}
		}
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		t.Fatal(err)
	}
	got := resp.Data.AttachProofOfExecution
	if got.ProofOfExecution == nil || got.ProofOfExecution.Sha256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("upload across SIGTERM answered %s", raw)
	}
	return got.ProofOfExecution.Sha256
}

// burstThroughSIGTERM runs 16 writers adding comments, signals the server
// while they run, and returns the IDs of the comments the server
// acknowledged. A request that fails must fail visibly: a refused
// connection, a non-200 status or an error in the body.
func burstThroughSIGTERM(t *testing.T, srv *serverProcess, token, claimID string) []string {
	t.Helper()
	var (
		mu           sync.Mutex
		acknowledged []string
		wg           sync.WaitGroup
	)
	signal := time.AfterFunc(400*time.Millisecond, func() { _ = srv.cmd.Process.Signal(syscall.SIGTERM) })
	defer signal.Stop()
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				body, _ := json.Marshal(map[string]any{
					"query":     `mutation($id: ID!, $b: String!) { addComment(input: {claimId: $id, body: $b}) { comment { id } userErrors { code } } }`,
					"variables": map[string]any{"id": claimID, "b": fmt.Sprintf("burst %d.%d", g, i)},
				})
				status, raw, err := srv.post(token, "application/json", bytes.NewReader(body), int64(len(body)))
				if err != nil {
					return // refused or reset: the client knows
				}
				var resp struct {
					Data *struct {
						AddComment *struct {
							Comment    *struct{ ID string }
							UserErrors []any
						}
					}
					Errors []any
				}
				if json.Unmarshal(raw, &resp) != nil {
					t.Errorf("HTTP %d with a body that is not JSON: %s", status, raw)
					return
				}
				if status != http.StatusOK || len(resp.Errors) > 0 {
					continue // a visible failure
				}
				if resp.Data == nil || resp.Data.AddComment == nil || resp.Data.AddComment.Comment == nil {
					if resp.Data != nil && resp.Data.AddComment != nil && len(resp.Data.AddComment.UserErrors) > 0 {
						continue
					}
					t.Errorf("HTTP 200 with nothing stored: %s", raw)
					return
				}
				mu.Lock()
				acknowledged = append(acknowledged, resp.Data.AddComment.Comment.ID)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(acknowledged) == 0 {
		t.Error("no mutation completed before the signal")
	}
	t.Logf("%d mutations acknowledged across the signal", len(acknowledged))
	if strings.Contains(srv.logs.String(), `"level":"ERROR"`) {
		t.Errorf("errors logged during the drain:\n%s", srv.logs.String())
	}
	return acknowledged
}
