package httpapi

import (
	"sync"
	"time"
)

// pinger keeps every connection alive from one goroutine rather than a
// ticker goroutine per connection: a ping (graphql-transport-ws) or
// keep-alive message (graphql-ws) each interval, and a close for a peer
// that has sent nothing, not even a pong, for two intervals. It runs only
// while connections exist.
type pinger struct {
	interval time.Duration
	mu       sync.Mutex
	conns    map[*wsConn]struct{}
	running  bool
}

func newPinger(interval time.Duration) *pinger {
	return &pinger{interval: interval, conns: map[*wsConn]struct{}{}}
}

func (p *pinger) add(c *wsConn) {
	if p.interval <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.conns[c] = struct{}{}
	if !p.running {
		p.running = true
		go p.run()
	}
}

func (p *pinger) remove(c *wsConn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *pinger) run() {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for range t.C {
		p.mu.Lock()
		if len(p.conns) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		conns := make([]*wsConn, 0, len(p.conns))
		for c := range p.conns {
			conns = append(conns, c)
		}
		p.mu.Unlock()
		for _, c := range conns {
			c.ping(p.interval)
		}
	}
}
