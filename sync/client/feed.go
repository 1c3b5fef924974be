package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-vault/coffer/sync/wire"
)

// feedSilence is how long a feed stream may say nothing (the server sends
// a keep-alive every 15 s) before the client takes it for dead.
const feedSilence = 45 * time.Second

// maxFeedEvent bounds one event of the feed stream: an event is a few
// hundred bytes, and each data line was bounded but not their number (a
// lying server sending lines without ending the event grew the app's
// memory without end).
const maxFeedEvent = 1 << 20

// StreamFeed reads the change feed as server-sent events
// (docs/sync-protocol.md, "The change feed") from after, calling fn with
// each event (opened, if set, once the server has answered), until ctx
// ends or the stream breaks (then it returns why).
// One request serves any number of events: what lets thousands of devices
// wait on one server.
func StreamFeed(ctx context.Context, c *Conn, after int64, opened func(), fn func(wire.Event)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := c.Do(ctx, Request{Method: "GET", Path: "/v1/feed/stream", Query: url.Values{"after": {strconv.FormatInt(after, 10)}}, Stream: true})
	if err != nil {
		return err
	}
	defer resp.Stream.Close()
	if opened != nil {
		opened()
	}
	alive := time.AfterFunc(feedSilence, cancel)
	defer alive.Stop()
	sc := bufio.NewScanner(resp.Stream)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var data strings.Builder
	for sc.Scan() {
		alive.Reset(feedSilence)
		line := sc.Text()
		switch {
		case line == "":
			if data.Len() > 0 {
				var e wire.Event
				if err := json.Unmarshal([]byte(data.String()), &e); err != nil {
					return fmt.Errorf("the server's feed sent a malformed event: %w", err)
				}
				fn(e)
				data.Reset()
			}
		case strings.HasPrefix(line, "data:"):
			data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
			if data.Len() > maxFeedEvent {
				return fmt.Errorf("the server's feed sent an event over %d bytes", maxFeedEvent)
			}
		}
	}
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%w: the feed stream broke: %v", ErrUnreachable, err)
	}
	return fmt.Errorf("%w: the server closed the feed stream", ErrUnreachable)
}
