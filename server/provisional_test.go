package server_test

import (
	"strconv"
	"testing"
	"time"
)

// Complaint.replyDueProvisional says whether replyDueAt was computed on
// official holiday data: a complaint filed in a year the calendar has data
// for is not provisional; one filed in 2027 (no built-in arrangement, none
// configured) is, and so is one whose half working day runs into 2027.
func TestReplyDueProvisional(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	clock := newFakeClock(time.Date(2027, 3, 10, 12, 0, 0, 0, cst))
	h := startServer(t, options{clock: clock})
	h.register("c1", "王芳", map[string]any{"occurredAt": ts(time.Date(2024, 1, 2, 9, 0, 0, 0, cst))})
	cases := []struct {
		name  string
		filed time.Time
		want  bool
	}{
		{"2025, official data", time.Date(2025, 3, 4, 10, 0, 0, 0, cst), false},
		{"2025 National Day week, official data", time.Date(2025, 9, 30, 16, 0, 0, 0, cst), false},
		{"2027, no data", time.Date(2027, 3, 2, 10, 0, 0, 0, cst), true},
		{"New Year's Eve 2026, due in 2027", time.Date(2026, 12, 31, 17, 0, 0, 0, cst), true},
	}
	for _, tc := range cases {
		id := h.fileComplaint("c1", map[string]any{"occurredAt": ts(tc.filed)})
		// Through the complaint query and the customer's open complaints.
		r := h.ok(`query($id:ID!){ complaint(id:$id){ replyDueAt replyDueProvisional } }`, map[string]any{"id": id})
		if got := r.get("complaint.replyDueProvisional"); got != tc.want {
			t.Errorf("%s: replyDueProvisional = %v, want %v (replyDueAt %s)", tc.name, got, tc.want, r.str("complaint.replyDueAt"))
		}
		r = h.ok(`query($id:ID!){ customer(id:$id){ openComplaints{ id replyDueProvisional } } }`, map[string]any{"id": "c1"})
		found := false
		for i := range r.list("customer.openComplaints") {
			if r.str("customer.openComplaints."+strconv.Itoa(i)+".id") == id {
				found = true
				if got := r.get("customer.openComplaints." + strconv.Itoa(i) + ".replyDueProvisional"); got != tc.want {
					t.Errorf("%s: customer.openComplaints replyDueProvisional = %v, want %v", tc.name, got, tc.want)
				}
			}
		}
		if !found {
			t.Errorf("%s: complaint %s not among the open complaints", tc.name, id)
		}
	}
	// The field is in the schema with a description that says what it means.
	r := h.ok(`{ __type(name:"Complaint"){ fields{ name description type{ kind ofType{ name } } } } }`, nil)
	found := false
	for i := range r.list("__type.fields") {
		p := "__type.fields." + strconv.Itoa(i)
		if r.str(p+".name") != "replyDueProvisional" {
			continue
		}
		found = true
		if r.str(p+".type.kind") != "NON_NULL" || r.str(p+".type.ofType.name") != "Boolean" {
			t.Errorf("replyDueProvisional type: %v", r.get(p+".type"))
		}
		if r.str(p+".description") == "" {
			t.Error("replyDueProvisional has no description")
		}
	}
	if !found {
		t.Error("Complaint has no replyDueProvisional field")
	}
}
