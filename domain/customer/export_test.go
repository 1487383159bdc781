package customer

import (
	"fmt"
	"reflect"
	"strings"
	"unsafe"
)

// StateDiff reports how two aggregates' decided state differs ("" when it
// is the same), naming each differing field. Pending changes and the loaded
// version are not compared. It lives in an _test file so that only tests
// see the unexported fields.
func StateDiff(a, b *Customer) string {
	x, y := *a, *b
	x.changes, y.changes = nil, nil
	x.loadedRev, y.loadedRev = 0, 0
	x.loadedExists, y.loadedExists = false, false
	vx, vy := reflect.ValueOf(&x).Elem(), reflect.ValueOf(&y).Elem()
	// Unexported fields cannot be read through reflect directly; make
	// readable views of them at the same address.
	open := func(f reflect.Value) any {
		return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface()
	}
	var diffs []string
	for i := 0; i < vx.NumField(); i++ {
		fx, fy := open(vx.Field(i)), open(vy.Field(i))
		if reflect.DeepEqual(fx, fy) {
			continue
		}
		name := vx.Type().Field(i).Name
		switch name {
		case "complaints":
			diffs = append(diffs, fmt.Sprintf("complaints: %+v != %+v", a.Complaints(), b.Complaints()))
		case "followUps":
			diffs = append(diffs, fmt.Sprintf("followUps: %+v != %+v", a.FollowUps(), b.FollowUps()))
		default:
			diffs = append(diffs, fmt.Sprintf("%s: %+v != %+v", name, fx, fy))
		}
	}
	return strings.Join(diffs, "\n")
}
