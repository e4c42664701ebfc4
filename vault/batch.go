package vault

import (
	"context"
	"errors"
	"fmt"
	"sync"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/recordvault/recordvault/seal"
)

// Concurrent requests that unwrap data keys wrapped by the same Transit key share Vault
// calls: while one call to a key's decrypt path is in flight, the items that
// arrive for that path wait and go together in the next call, as batch_input. A lone request
// is sent at once, as before; under load each Vault call carries the keys of every request
// that arrived meanwhile, so Vault's per-request work (authentication, policy, routing) is
// paid once a batch rather than once a key. This is the audit chain's group commit applied
// to Transit.
//
// Sharing a call is safe because each item carries its own derivation context and Vault
// answers each item apart: a key is never unwrapped under another request's context. A batch
// Vault refuses as a whole because an item fails (a tampered or retired wrapped key: 400) is
// sent again one request at a time, so that only the request whose key fails is refused.

// maxBatchItems bounds the items of one shared call (Vault's own limit is far above).
const maxBatchItems = 256

// batchCall is one request's items on one path, and where its answer goes.
type batchCall struct {
	ctx   context.Context
	items []map[string]any
	done  chan batchAnswer
}

type batchAnswer struct {
	items []map[string]any
	err   error
}

// batchPath is the queue of one Transit path.
type batchPath struct {
	pending []*batchCall
	sending bool // a goroutine is draining pending
}

// batcher merges the concurrent calls of a Client, per path.
type batcher struct {
	mu    sync.Mutex
	paths map[string]*batchPath
}

// shared sends items to path as part of a batch_input call shared with the requests
// waiting on the same path, and returns their results in order. An item that fails fails
// the call with seal.ErrUnwrap, as batch does.
func (c *Client) shared(ctx context.Context, path string, items []map[string]any) ([]map[string]any, error) {
	call := &batchCall{ctx: ctx, items: items, done: make(chan batchAnswer, 1)}
	b := &c.batches
	b.mu.Lock()
	if b.paths == nil {
		b.paths = map[string]*batchPath{}
	}
	q := b.paths[path]
	if q == nil {
		q = &batchPath{}
		b.paths[path] = q
	}
	q.pending = append(q.pending, call)
	start := !q.sending
	q.sending = true
	b.mu.Unlock()
	if start {
		go c.drain(path, q)
	}
	select {
	case a := <-call.done:
		return a.items, a.err
	case <-ctx.Done():
		return nil, fmt.Errorf("vault: %s: %w", path, ctx.Err())
	}
}

// drain sends the calls pending on path, as many together as fit a batch, until none are
// left. Calls whose request has given up are dropped unsent.
func (c *Client) drain(path string, q *batchPath) {
	b := &c.batches
	for {
		b.mu.Lock()
		var calls []*batchCall
		n := 0
		for len(q.pending) > 0 && (n == 0 || n+len(q.pending[0].items) <= maxBatchItems) {
			call := q.pending[0]
			q.pending = q.pending[1:]
			if call.ctx.Err() != nil {
				continue
			}
			calls = append(calls, call)
			n += len(call.items)
		}
		if len(calls) == 0 && len(q.pending) == 0 {
			q.sending = false
			delete(b.paths, path)
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		if len(calls) > 0 {
			c.send(path, calls)
		}
	}
}

// send makes one Vault call for calls and answers each of them. The call is bounded by
// callTimeout, not by any one request's deadline: the others share it.
func (c *Client) send(path string, calls []*batchCall) {
	var input []map[string]any
	for _, call := range calls {
		input = append(input, call.items...)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(calls[0].ctx), callTimeout)
	results, err := c.batch(ctx, path, input)
	cancel()
	if err != nil && len(calls) > 1 && errors.Is(err, seal.ErrUnwrap) {
		for _, call := range calls { // one request's key failed: find whose
			ctx, cancel := context.WithTimeout(context.WithoutCancel(call.ctx), callTimeout)
			items, err := c.batch(ctx, path, call.items)
			cancel()
			call.done <- batchAnswer{items, err}
		}
		return
	}
	for _, call := range calls {
		if err != nil {
			call.done <- batchAnswer{err: err}
			continue
		}
		call.done <- batchAnswer{items: results[:len(call.items)]}
		results = results[len(call.items):]
	}
}

// batch posts input as batch_input to path and returns each item's result, failing with
// seal.ErrUnwrap if any item carries an error (Vault answers such a batch 400).
func (c *Client) batch(ctx context.Context, path string, input []map[string]any) ([]map[string]any, error) {
	if len(input) == 0 {
		return nil, nil
	}
	s, err := c.api.Logical().WriteWithContext(ctx, path, map[string]any{"batch_input": input})
	if err != nil {
		var re *vaultapi.ResponseError
		if errors.As(err, &re) && re.StatusCode == 400 {
			return nil, fmt.Errorf("%w: %w", seal.ErrUnwrap, err)
		}
		return nil, c.failed(ctx, err, "%s", path)
	}
	if s == nil {
		return nil, fmt.Errorf("vault: %s: empty response", path)
	}
	results, _ := s.Data["batch_results"].([]any)
	if len(results) != len(input) {
		return nil, fmt.Errorf("vault: %s: %d batch results for %d inputs", path, len(results), len(input))
	}
	items := make([]map[string]any, len(results))
	for i, r := range results {
		item, _ := r.(map[string]any)
		if msg, _ := item["error"].(string); msg != "" || item == nil {
			return nil, fmt.Errorf("%w: batch item %d: %s", seal.ErrUnwrap, i, msg)
		}
		items[i] = item
	}
	return items, nil
}
