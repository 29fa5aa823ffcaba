package testserver

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Proxy is a loopback TCP proxy in front of a server that can lose replies:
// once LoseReplies is called, the next request bytes are forwarded, nothing
// comes back, and the connection is cut shortly after — a reply lost after
// the server got the request.
type Proxy struct {
	Addr   string
	target string
	lis    net.Listener
	armed  atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

// NewProxy starts a proxy to target; Cleanup stops it.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	p := &Proxy{Addr: lis.Addr().String(), target: target, lis: lis}
	p.wg.Add(1)
	go p.accept()
	tb.Cleanup(p.Close)
	return p
}

// LoseReplies arms the proxy: replies are dropped and connections cut.
func (p *Proxy) LoseReplies() { p.armed.Store(true) }

// Heal disarms the proxy for new connections.
func (p *Proxy) Heal() { p.armed.Store(false) }

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.lis.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		cut := func() {
			time.Sleep(200 * time.Millisecond)
			c.Close()
			s.Close()
		}
		var once sync.Once
		p.wg.Add(2)
		go func() { // client -> server
			defer p.wg.Done()
			buf := make([]byte, 32<<10)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					s.Write(buf[:n])
					if p.armed.Load() {
						once.Do(func() { go cut() })
					}
				}
				if err != nil {
					s.Close()
					return
				}
			}
		}()
		go func() { // server -> client
			defer p.wg.Done()
			buf := make([]byte, 32<<10)
			for {
				n, err := s.Read(buf)
				if n > 0 && !p.armed.Load() {
					c.Write(buf[:n])
				}
				if err != nil {
					c.Close()
					return
				}
			}
		}()
	}
}

// Close stops the proxy and cuts its connections.
func (p *Proxy) Close() {
	p.lis.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
