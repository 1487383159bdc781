package complaints_test

import (
	"slices"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/projections/complaints"
)

func complaintIDs(cs []complaints.Complaint) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID+"@"+c.CustomerID)
	}
	return out
}

// Given a (with b merged into it before) merged into s, complaints of a
// and b are s's; unmerging a gives a its own and b's back, and s keeps
// its own, the one filed on s after the merge included.
func TestUnmergeGivesComplaintsBack(t *testing.T) {
	f := newFeeder()
	file := func(cust, id string, h int) {
		f.apply(cust, t0.Add(time.Duration(h)*time.Hour), &customer.ComplaintFiled{ComplaintID: id, Channel: customer.ChannelPhone, Category: "delivery", Severity: customer.SeverityGeneral, Description: "late", Owner: "amy", ReplyDueAt: t0.Add(48 * time.Hour)})
	}
	file("s", "ks", 1)
	file("a", "ka", 2)
	file("b", "kb", 3)
	f.apply("b", t0.Add(4*time.Hour), &customer.CustomerMerged{Into: "a"})
	f.apply("a", t0.Add(4*time.Hour), &customer.CustomersMergedIn{From: []string{"b"}})
	f.apply("a", t0.Add(5*time.Hour), &customer.CustomerMerged{Into: "s"})
	f.apply("s", t0.Add(5*time.Hour), &customer.CustomersMergedIn{From: []string{"a"}})
	file("s", "ks2", 6)
	if got := complaintIDs(f.m.OfCustomer("s")); !slices.Equal(got, []string{"ks@s", "ka@s", "kb@s", "ks2@s"}) {
		t.Fatalf("s's complaints while merged: %v", got)
	}
	f.apply("a", t0.Add(7*time.Hour), &customer.CustomerUnmerged{From: "s"})
	f.apply("s", t0.Add(7*time.Hour), &customer.CustomersUnmerged{IDs: []string{"a"}})
	if got := complaintIDs(f.m.OfCustomer("s")); !slices.Equal(got, []string{"ks@s", "ks2@s"}) {
		t.Errorf("s's complaints after unmerging a: %v, want ks and ks2", got)
	}
	if got := complaintIDs(f.m.OfCustomer("a")); !slices.Equal(got, []string{"ka@a", "kb@a"}) {
		t.Errorf("a's complaints after the unmerge: %v, want ka and kb", got)
	}
	if owner, _ := f.m.CustomerOf("kb"); owner != "b" {
		t.Errorf("kb's stream = %q, want b (events stay where they are)", owner)
	}
}
