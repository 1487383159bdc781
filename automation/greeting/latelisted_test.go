package greeting_test

import (
	"testing"
	"time"
)

// A customer the directory lists only after the first tick that covered
// their send time (the customers read model had not caught up yet) is
// still greeted on a later tick.
func TestCustomerListedLateIsStillGreeted(t *testing.T) {
	e := newEnv(t, nil)
	e.add(t, person{id: "a", consent: true, phone: "13800000001"})
	id := schedule(t, e.ctx, e.svc, nil)
	snd := &recorder{}
	d := e.dispatcher(t, snd, id)
	t1 := time.Date(2025, 1, 29, 3, 0, 0, 0, time.UTC) // festival day, after 10:00 in Shanghai
	if err := d.Tick(e.ctx, t1); err != nil {
		t.Fatal(err)
	}
	e.add(t, person{id: "b", consent: true, phone: "13800000002"})
	if err := d.Tick(e.ctx, t1.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	got := snd.byCustomer()
	if _, ok := got["b"]; !ok {
		t.Fatalf("b was never greeted: %v", got)
	}
	if len(got) != 2 {
		t.Fatalf("greeted %v, want a and b", got)
	}
}
