package scaleout

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// listener runs the LISTEN connections of Changes until the store closes.
type listener struct {
	cfg    *pgx.ConnConfig
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex // guards closed and wg.Add against close
	closed bool
	wg     sync.WaitGroup
}

// newListener's context is the store's lifetime, ended by close (Open's
// context ends with the call; the connections of Changes outlive it).
func newListener(cfg *pgx.ConnConfig) *listener {
	ctx, cancel := context.WithCancel(context.Background())
	return &listener{cfg: cfg, ctx: ctx, cancel: cancel}
}

func (l *listener) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.cancel()
	l.wg.Wait()
}

// Changes implements store.Notifier: the returned channel receives after
// any server sharing the store added feed events or audit batches
// (several at once may come as one), and once after each (re)connection,
// for what was missed while none was listening. It is closed when ctx
// ends or the store closes. A lost connection is made again, every few
// seconds at most.
func (s *Store) Changes(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	l := s.listen
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		close(ch)
		return ch
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(l.ctx, cancel)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer close(ch)
		defer stop()
		defer cancel()
		signal := func() {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
		wait := 100 * time.Millisecond
		for ctx.Err() == nil {
			if l.listenOnce(ctx, signal) {
				wait = 100 * time.Millisecond
			}
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
			wait = min(2*wait, 5*time.Second)
		}
	}()
	return ch
}

// listenOnce listens on one connection until it fails or ctx ends; it
// reports whether it got as far as listening.
func (l *listener) listenOnce(ctx context.Context, signal func()) bool {
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return false
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return false
	}
	signal()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true
		}
		signal()
	}
}
