package greeting_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/kefu-crm/kefu/automation/greeting"
	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/eventstore"
)

type senderFunc func(context.Context, greeting.Message) (greeting.Receipt, error)

func (f senderFunc) Send(ctx context.Context, m greeting.Message) (greeting.Receipt, error) {
	return f(ctx, m)
}

func itoa(i int) string { return strconv.Itoa(i) }

func mustDate(s string) calendar.Date { return calendar.MustParse(s) }

func eventStoreRead() eventstore.StreamRead { return eventstore.StreamRead{} }

func readOutbox(t testing.TB, path string) []greeting.OutboxLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []greeting.OutboxLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l greeting.OutboxLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %d: %v", len(out)+1, err)
		}
		out = append(out, l)
	}
	return out
}
