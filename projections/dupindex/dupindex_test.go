package dupindex_test

import (
	"testing"

	"github.com/kefu-crm/kefu/projections/dupindex"
)

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"13800138000":        "+8613800138000",
		"+86 138 0013 8000":  "+8613800138000",
		"0086-138-0013-8000": "+8613800138000",
		"8613800138000":      "+8613800138000",
		"(010) 6552 9988":    "01065529988",
		"+1 415 555 0100":    "+14155550100",
		"call me":            "",
		"123":                "",
	} {
		if got := dupindex.NormalizePhone(in); got != want {
			t.Errorf("NormalizePhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeOthers(t *testing.T) {
	if a, b := dupindex.NormalizeWeChat(" Wang_Fang88 "), dupindex.NormalizeWeChat("wang_fang88"); a != b {
		t.Errorf("WeChat IDs %q and %q differ", a, b)
	}
	if a, b := dupindex.NormalizeName("王 芳"), dupindex.NormalizeName("王芳"); a != b {
		t.Errorf("names %q and %q differ", a, b)
	}
}
