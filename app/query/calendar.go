package query

import (
	"context"

	"github.com/kefu-crm/kefu/domain/calendar"
)

func (h Calendar) Holidays(ctx context.Context, cal string, from, to calendar.Date) ([]Holiday, error) {
	hs, err := calendar.Holidays(cal, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]Holiday, len(hs))
	for i, h := range hs {
		out[i] = Holiday{Calendar: h.Calendar, Key: h.Key, Name: h.Name, LocalName: strPtr(h.LocalName), Date: h.Date}
	}
	return out, nil
}

// ---- events ----
