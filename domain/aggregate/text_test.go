package aggregate_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
)

func TestCheckText(t *testing.T) {
	name := func(s string) *string { return &s }
	tests := []struct {
		name  string
		cmd   any
		field string // "" = accepted
	}{
		{"ordinary", customer.Register{Name: "王小明", Phone: "+8613800000000"}, ""},
		{"long name", customer.Register{Name: strings.Repeat("a", aggregate.MaxLineRunes+1)}, "name"},
		{"name at the limit, in runes", customer.Register{Name: strings.Repeat("名", aggregate.MaxLineRunes)}, ""},
		{"NUL", customer.Register{Name: "a\x00b"}, "name"},
		{"invalid UTF-8", customer.Register{Name: "a\xffb"}, "name"},
		{"wechat spelled as the API does", customer.Register{Name: "a", WeChat: "x\ny"}, "wechat"},
		{"line break in a note", customer.AcknowledgeComplaint{ComplaintID: "k1", By: "mia", Note: "one\ntwo"}, ""},
		{"long note", customer.AcknowledgeComplaint{ComplaintID: "k1", By: "mia", Note: strings.Repeat("x", aggregate.MaxTextRunes+1)}, "note"},
		{"pointer field", customer.UpdateProfile{Name: name("a\tb")}, "name"},
		{"too many options", customer.ProposeResolution{ComplaintID: "k1", By: "mia", Options: make([]string, aggregate.MaxListItems+1)}, "options"},
		{"an item with a control character", customer.RecordPurchase{OrderID: "o1", Items: []string{"rice", "bag\x07"}}, "items"},
		{"ID field spelled as the API does", customer.LogContact{Agent: "mia", ComplaintID: strings.Repeat("k", 300)}, "complaintId"},
	}
	for _, tt := range tests {
		err := aggregate.CheckText(tt.cmd)
		var ie *aggregate.InvalidInputError
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%s: %v, want accepted", tt.name, err)
		case tt.field != "" && (!errors.As(err, &ie) || ie.Field != tt.field):
			t.Errorf("%s: %v, want an invalid-input error on %s", tt.name, err, tt.field)
		}
	}
}
