package server_test

import (
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/server"
)

// A year's official arrangement added by configuration (kefu serve
// --arrangements) moves reply-due times in that year: 2027 has no built-in
// data, so a Saturday filing counts Mon–Fri until the arrangement says the
// Sunday after Spring Festival is a working day.
func TestArrangementMovesReplyDue(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	filed := time.Date(2027, 2, 13, 10, 0, 0, 0, cst) // Saturday
	arr, err := calendar.ParseArrangements([]byte(`[{"year":2027,
		"daysOff":["2027-02-06","2027-02-07","2027-02-08","2027-02-09","2027-02-10","2027-02-11","2027-02-12"],
		"workingDays":["2027-02-14"]}]`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		arrangements []calendar.Arrangement
		want         time.Time
	}{
		{"without the 2027 arrangement: Mon–Fri, provisional", nil, time.Date(2027, 2, 15, 13, 30, 0, 0, cst)},
		{"with it: the adjusted working Sunday", arr, time.Date(2027, 2, 14, 13, 30, 0, 0, cst)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock(filed.Add(time.Hour))
			h := startServerWith(t, options{clock: clock}, func(c *server.Config) { c.Calendar.Arrangements = tc.arrangements })
			h.register("c1", "王芳", map[string]any{"occurredAt": ts(filed.Add(-24 * time.Hour))})
			id := h.fileComplaint("c1", map[string]any{"occurredAt": ts(filed)})
			r := h.ok(`query($id:ID!){ complaint(id:$id){ replyDueAt } }`, map[string]any{"id": id})
			got := mustTime(t, r.str("complaint.replyDueAt"))
			if !got.Equal(tc.want) {
				t.Fatalf("replyDueAt = %s, want %s", got.In(cst), tc.want)
			}
		})
	}
}
