package e2e_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNewcomer is the README's first command as a newcomer meets it:
// `kefu serve --demo` on a fresh directory, ten times in a row, each ready
// within readyTimeout (a hang fails, it does not stall the suite), each
// printing the URL to open and showing a customer; then the same command
// again on the last directory: a restart keeps everything and books
// nothing new.
func TestNewcomer(t *testing.T) {
	t.Parallel()
	ctx := journey(t, 150*time.Second)
	const runs = 10
	var dir string
	for i := range runs {
		dir = filepath.Join(t.TempDir(), "kefu-data")
		s := startServer(t, ctx, serveOpts{dir: dir, args: []string{"--demo"}})
		t.Logf("run %d: ready in %s", i+1, s.took.Round(time.Millisecond))
		checkDemoServes(t, ctx, s)
		if i < runs-1 {
			s.stop()
			continue
		}

		// The last run: what it knows, once the process managers are done.
		before := s.quiesce(ctx)
		answers := bookAnswers(t, ctx, s.client(""))
		s.stop()

		// The README's command again, on the same directory.
		s = startServer(t, ctx, serveOpts{dir: dir, args: []string{"--demo"}})
		after := s.quiesce(ctx)
		if after.Head != before.Head || after.Customers != before.Customers {
			t.Errorf("after a restart on the same directory: head %d, %d customers; before: head %d, %d customers (a restart must keep every event and append none)",
				after.Head, after.Customers, before.Head, before.Customers)
		}
		if again := bookAnswers(t, ctx, s.client("")); again != answers {
			t.Errorf("the same queries answer differently after a restart\nbefore: %s\nafter:  %s", answers, again)
		}
		s.stop()
	}
}

// checkDemoServes is what a newcomer sees on a fresh demo: the URL on
// stdout, the explorer page at it, and a customer from a first query.
func checkDemoServes(t *testing.T, ctx context.Context, s *server) {
	t.Helper()
	url := s.base + "/graphql"
	// serve prints the URL as it becomes ready; /healthz may say so a
	// moment earlier.
	eventually(t, ctx, 5*time.Second, "the URL to open on stdout", func() (bool, string) {
		return strings.Contains(s.stdout.String(), url), s.stdout.String()
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/html")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(strings.ToLower(string(page)), "<html") {
		t.Errorf("GET %s in a browser: HTTP %d, %d bytes, want the explorer page", url, resp.StatusCode, len(page))
	}

	var d struct {
		Customers struct {
			TotalCount int
			Edges      []struct {
				Node struct{ ID, Name, Stage string }
			}
		}
	}
	c := s.client("")
	c.must(ctx, &d, `{ customers(first: 1) { totalCount edges { node { id name stage } } } }`, nil)
	if d.Customers.TotalCount != 2000 {
		t.Errorf("customers.totalCount = %d on a fresh demo, want 2000 (README: the demo has 2,000 customers)", d.Customers.TotalCount)
	}
	if len(d.Customers.Edges) != 1 || d.Customers.Edges[0].Node.Name == "" || d.Customers.Edges[0].Node.Stage == "" {
		t.Fatalf("the first query shows no customer: %+v", d)
	}
	id := d.Customers.Edges[0].Node.ID
	var one struct {
		Customer *struct {
			ID       string
			Timeline struct{ TotalCount int }
		}
	}
	c.must(ctx, &one, `query($id: ID!) { customer(id: $id) { id timeline { totalCount } } }`, map[string]any{"id": id})
	if one.Customer == nil || one.Customer.ID != id || one.Customer.Timeline.TotalCount == 0 {
		t.Errorf("customer(id: %q) = %s, want the customer with a history", id, js(one.Customer))
	}
}

// bookAnswers asks questions whose answers do not depend on the wall
// clock and returns them as one string.
func bookAnswers(t *testing.T, ctx context.Context, c *client) string {
	t.Helper()
	var d json.RawMessage
	c.must(ctx, &d, `{
	  customers(first: 25) { totalCount edges { node { id name tier accountManager registeredAt purchaseCount version
	    lifetimeValue { amountMinor currency }
	    timeline(first: 3) { totalCount edges { node { eventId type revision occurredAt } } } } } }
	  complaints(first: 10) { totalCount edges { node { id status owner filedAt outcome } } }
	  due: followUps(filter: {status: DUE}, first: 10) { totalCount edges { node { id reason owner dueAt } } }
	  done: followUps(filter: {status: DONE}, first: 1) { totalCount }
	  campaigns { totalCount }
	}`, nil)
	return string(d)
}
