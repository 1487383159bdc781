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

// The built-in calendar knows 2013's adjusted working days (a Sunday and a
// Saturday the upstream table lacked): a complaint filed on one of them at
// 10:00 is due the same day at 14:30, not on the next weekday.
func TestReplyDueOnBuiltinAdjustedWorkingDays(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	h := startServer(t, options{})
	h.register("c1", "王芳", map[string]any{"occurredAt": ts(time.Date(2013, 1, 2, 9, 0, 0, 0, cst))})
	for _, day := range []time.Time{
		time.Date(2013, 4, 7, 10, 0, 0, 0, cst),   // Sunday after 清明
		time.Date(2013, 10, 12, 10, 0, 0, 0, cst), // Saturday after 国庆
		time.Date(2013, 9, 22, 10, 0, 0, 0, cst),  // Sunday after 中秋 (always known)
	} {
		id := h.fileComplaint("c1", map[string]any{"occurredAt": ts(day)})
		r := h.ok(`query($id:ID!){ complaint(id:$id){ replyDueAt replyDueProvisional } }`, map[string]any{"id": id})
		want := day.Add(4*time.Hour + 30*time.Minute)
		if got := mustTime(t, r.str("complaint.replyDueAt")); !got.Equal(want) {
			t.Errorf("filed %s (%s, an official working day): replyDueAt %s, want %s", day.Format("2006-01-02 15:04"), day.Weekday(), got.In(cst), want)
		}
		if r.get("complaint.replyDueProvisional") != false {
			t.Errorf("filed %s: replyDueProvisional = %v, want false", day.Format("2006-01-02"), r.get("complaint.replyDueProvisional"))
		}
	}
}
