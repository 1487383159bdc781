package campaign_test

import (
	"errors"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/calendar"
	"github.com/kefu-crm/kefu/domain/campaign"
)

var now = time.Date(2025, 1, 10, 3, 0, 0, 0, time.UTC)

func valid() campaign.Schedule {
	return campaign.Schedule{
		CampaignID: "c1", Name: "Spring", Occasion: "CN:spring_festival", By: "mkt",
		Audience:  campaign.Audience{Stages: []string{"LOYAL", "ACTIVE"}, Tiers: []string{"GOLD", "VIP"}, ExcludeConductFlagged: true},
		Templates: []campaign.Template{{Stages: []string{"GRUMBLING"}, Channel: "SMS", Body: "{{name}}, sorry"}, {Channel: "WECHAT", Body: "{{ name }}，{{occasion}}快乐"}},
	}
}

func TestSchedule(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*campaign.Schedule)
		wantErr error
		check   func(*testing.T, *campaign.GreetingCampaignScheduled)
	}{
		{name: "holiday date looked up", edit: func(*campaign.Schedule) {},
			check: func(t *testing.T, e *campaign.GreetingCampaignScheduled) {
				if e.Date != calendar.MustParse("2025-01-29") || e.Kind != campaign.KindHoliday || e.SendAtLocal != "09:00" {
					t.Errorf("got %+v", e)
				}
			}},
		{name: "holiday already past this year: next year's", edit: func(s *campaign.Schedule) { s.Occasion = "CN:new_year" },
			check: func(t *testing.T, e *campaign.GreetingCampaignScheduled) {
				if e.Date != calendar.MustParse("2026-01-01") {
					t.Errorf("date %v", e.Date)
				}
			}},
		{name: "birthday window defaults", edit: func(s *campaign.Schedule) { s.Occasion = "BIRTHDAY" },
			check: func(t *testing.T, e *campaign.GreetingCampaignScheduled) {
				if e.Kind != campaign.KindBirthday || e.WindowDays != 30 || e.Date != calendar.MustParse("2025-01-10") {
					t.Errorf("got %+v", e)
				}
			}},
		{name: "custom with date", edit: func(s *campaign.Schedule) {
			s.Occasion = "Store anniversary"
			s.Date = calendar.MustParse("2025-03-01")
		},
			check: func(t *testing.T, e *campaign.GreetingCampaignScheduled) {
				if e.Kind != campaign.KindCustom {
					t.Errorf("kind %s", e.Kind)
				}
			}},
		{name: "audience counted", edit: func(s *campaign.Schedule) { s.AudienceSize = 42 },
			check: func(t *testing.T, e *campaign.GreetingCampaignScheduled) {
				if e.AudienceSize != 42 {
					t.Errorf("audienceSize %d, want 42", e.AudienceSize)
				}
			}},
		{name: "negative audience count", edit: func(s *campaign.Schedule) { s.AudienceSize = -1 }, wantErr: aggregate.ErrInvalidInput},
		{name: "unknown holiday", edit: func(s *campaign.Schedule) { s.Occasion = "CN:nope" }, wantErr: calendar.ErrUnknownHoliday},
		{name: "unknown calendar", edit: func(s *campaign.Schedule) { s.Occasion = "XX:nope" }, wantErr: aggregate.ErrInvalidInput},
		{name: "sendAtLocal not HH:MM", edit: func(s *campaign.Schedule) { s.SendAtLocal = "9:00" }, wantErr: aggregate.ErrInvalidInput},
		{name: "sendAtLocal 24:00", edit: func(s *campaign.Schedule) { s.SendAtLocal = "24:00" }, wantErr: aggregate.ErrInvalidInput},
		{name: "unknown placeholder", edit: func(s *campaign.Schedule) { s.Templates[1].Body = "hi {{first_name}}" }, wantErr: aggregate.ErrInvalidInput},
		{name: "unclosed placeholder", edit: func(s *campaign.Schedule) { s.Templates[1].Body = "hi {{name" }, wantErr: aggregate.ErrInvalidInput},
		{name: "empty templates", edit: func(s *campaign.Schedule) { s.Templates = nil }, wantErr: aggregate.ErrInvalidInput},
		{name: "bad channel", edit: func(s *campaign.Schedule) { s.Templates[0].Channel = "VISIT" }, wantErr: aggregate.ErrInvalidInput},
		{name: "bad stage", edit: func(s *campaign.Schedule) { s.Audience.Stages = []string{"HAPPY"} }, wantErr: aggregate.ErrInvalidInput},
		{name: "bad tier", edit: func(s *campaign.Schedule) { s.Audience.Tiers = []string{"PLATINUM"} }, wantErr: aggregate.ErrInvalidInput},
		{name: "custom without date", edit: func(s *campaign.Schedule) { s.Occasion = "Sale" }, wantErr: aggregate.ErrInvalidInput},
		{name: "past date", edit: func(s *campaign.Schedule) { s.Date = calendar.MustParse("2024-02-10") }, wantErr: aggregate.ErrInvalidInput},
		{name: "window on a holiday", edit: func(s *campaign.Schedule) { s.WindowDays = 3 }, wantErr: aggregate.ErrInvalidInput},
		{name: "no name", edit: func(s *campaign.Schedule) { s.Name = " " }, wantErr: aggregate.ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// given a new campaign
			c, err := campaign.New("c1")
			if err != nil {
				t.Fatal(err)
			}
			cmd := valid()
			tt.edit(&cmd)
			// when it is scheduled
			err = c.Schedule(cmd, now)
			// then
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !errors.Is(err, aggregate.ErrInvalidInput) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if len(c.Changes()) != 0 || c.Exists() {
					t.Fatal("a refused command recorded something")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ch := c.Changes()
			if len(ch) != 1 {
				t.Fatalf("changes %d", len(ch))
			}
			tt.check(t, ch[0].Event.(*campaign.GreetingCampaignScheduled))
			if c.Status() != campaign.StatusScheduled {
				t.Errorf("status %s", c.Status())
			}
		})
	}
}

func TestLifecycle(t *testing.T) {
	scheduled := func(t *testing.T) *campaign.Campaign {
		c, _ := campaign.New("c1")
		if err := c.Schedule(valid(), now); err != nil {
			t.Fatal(err)
		}
		h := []campaign.Historic{{Event: c.Changes()[0].Event, Revision: 0, OccurredAt: now}}
		c, err := campaign.Rehydrate("c1", h)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	counts := campaign.Counts{AudienceSize: 3, Sent: 1, Failed: 1, Skipped: 1, SkippedByReason: map[string]int{"NO_CONSENT": 1}}
	tests := []struct {
		name       string
		given      func(*campaign.Campaign) error
		when       func(*campaign.Campaign) error
		wantErr    error
		wantStatus campaign.Status
	}{
		{"start", nil, func(c *campaign.Campaign) error { return c.Start("d", 0, now) }, nil, campaign.StatusRunning},
		{"start twice", func(c *campaign.Campaign) error { return c.Start("d", 0, now) }, func(c *campaign.Campaign) error { return c.Start("d", 0, now) }, aggregate.ErrFailedPrecondition, campaign.StatusRunning},
		{"complete running", func(c *campaign.Campaign) error { return c.Start("d", 0, now) }, func(c *campaign.Campaign) error { return c.Complete(counts, "d", now) }, nil, campaign.StatusCompleted},
		{"complete before start", nil, func(c *campaign.Campaign) error { return c.Complete(counts, "d", now) }, aggregate.ErrFailedPrecondition, campaign.StatusScheduled},
		{"complete with inconsistent counts", func(c *campaign.Campaign) error { return c.Start("d", 0, now) },
			func(c *campaign.Campaign) error { return c.Complete(campaign.Counts{Skipped: 2}, "d", now) }, aggregate.ErrInvalidInput, campaign.StatusRunning},
		{"complete with exclusions", func(c *campaign.Campaign) error { return c.Start("d", 3, now) },
			func(c *campaign.Campaign) error {
				return c.Complete(campaign.Counts{Sent: 1, AudienceSize: 1, Excluded: 2, ExcludedByReason: map[string]int{"STAGE_EXCLUDED": 1, "TIER_EXCLUDED": 1}}, "d", now)
			}, nil, campaign.StatusCompleted},
		{"complete with inconsistent exclusions", func(c *campaign.Campaign) error { return c.Start("d", 0, now) },
			func(c *campaign.Campaign) error {
				return c.Complete(campaign.Counts{Excluded: 2, ExcludedByReason: map[string]int{"STAGE_EXCLUDED": 1}}, "d", now)
			}, aggregate.ErrInvalidInput, campaign.StatusRunning},
		{"start with a negative audience", nil, func(c *campaign.Campaign) error { return c.Start("d", -1, now) }, aggregate.ErrInvalidInput, campaign.StatusScheduled},
		{"cancel scheduled", nil, func(c *campaign.Campaign) error { return c.Cancel(campaign.Cancel{By: "m", Reason: "typo"}, now) }, nil, campaign.StatusCancelled},
		{"cancel running", func(c *campaign.Campaign) error { return c.Start("d", 0, now) }, func(c *campaign.Campaign) error { return c.Cancel(campaign.Cancel{By: "m", Reason: "typo"}, now) }, nil, campaign.StatusCancelled},
		{"cancel without reason", nil, func(c *campaign.Campaign) error { return c.Cancel(campaign.Cancel{By: "m"}, now) }, aggregate.ErrInvalidInput, campaign.StatusScheduled},
		{"cancel cancelled", func(c *campaign.Campaign) error { return c.Cancel(campaign.Cancel{By: "m", Reason: "x"}, now) },
			func(c *campaign.Campaign) error { return c.Cancel(campaign.Cancel{By: "m", Reason: "x"}, now) }, aggregate.ErrFailedPrecondition, campaign.StatusCancelled},
		{"start cancelled", func(c *campaign.Campaign) error { return c.Cancel(campaign.Cancel{By: "m", Reason: "x"}, now) },
			func(c *campaign.Campaign) error { return c.Start("d", 0, now) }, aggregate.ErrFailedPrecondition, campaign.StatusCancelled},
		{"reschedule", nil, func(c *campaign.Campaign) error { s := valid(); return c.Schedule(s, now) }, aggregate.ErrFailedPrecondition, campaign.StatusScheduled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := scheduled(t)
			if tt.given != nil {
				if err := tt.given(c); err != nil {
					t.Fatal(err)
				}
			}
			before := len(c.Changes())
			err := tt.when(c)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil && len(c.Changes()) != before {
				t.Fatal("a refused command recorded something")
			}
			if c.Status() != tt.wantStatus {
				t.Errorf("status %s, want %s", c.Status(), tt.wantStatus)
			}
		})
	}
}

// TestDefines: a repeated scheduling request is told from another
// campaign under the same idempotency key by the definition, evaluated as
// of the scheduling instant; who asks and the audience count do not matter.
func TestDefines(t *testing.T) {
	c, _ := campaign.New("c1")
	first := valid()
	first.AudienceSize = 7
	if err := c.Schedule(first, now); err != nil {
		t.Fatal(err)
	}
	// Rehydrated, as the service loads it (the stored event went through JSON elsewhere).
	c, err := campaign.Rehydrate("c1", []campaign.Historic{{Event: c.Changes()[0].Event, OccurredAt: now}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(*campaign.Schedule)
		want bool
	}{
		{"the same request", func(*campaign.Schedule) {}, true},
		{"another user, another audience count, no campaign id", func(s *campaign.Schedule) { s.By, s.AudienceSize, s.CampaignID = "other", 99, "" }, true},
		{"the looked-up date given explicitly", func(s *campaign.Schedule) { s.Date = calendar.MustParse("2025-01-29") }, true},
		{"the default send time given explicitly", func(s *campaign.Schedule) { s.SendAtLocal = "09:00" }, true},
		{"a repeated stage", func(s *campaign.Schedule) { s.Audience.Stages = []string{"LOYAL", "ACTIVE", "LOYAL"} }, true},
		{"name", func(s *campaign.Schedule) { s.Name = "Autumn" }, false},
		{"occasion", func(s *campaign.Schedule) { s.Occasion = "CN:national_day" }, false},
		{"date", func(s *campaign.Schedule) { s.Date = calendar.MustParse("2026-02-17") }, false},
		{"send time", func(s *campaign.Schedule) { s.SendAtLocal = "10:00" }, false},
		{"stages", func(s *campaign.Schedule) { s.Audience.Stages = []string{"LOYAL"} }, false},
		{"stage order", func(s *campaign.Schedule) { s.Audience.Stages = []string{"ACTIVE", "LOYAL"} }, false},
		{"tiers", func(s *campaign.Schedule) { s.Audience.Tiers = nil }, false},
		{"account manager", func(s *campaign.Schedule) { s.Audience.AccountManager = "amy" }, false},
		{"conduct", func(s *campaign.Schedule) { s.Audience.ExcludeConductFlagged = false }, false},
		{"template body", func(s *campaign.Schedule) { s.Templates[1].Body = "hi" }, false},
		{"template channel", func(s *campaign.Schedule) { s.Templates[1].Channel = "SMS" }, false},
		{"template stages", func(s *campaign.Schedule) { s.Templates[0].Stages = nil }, false},
		{"a template less", func(s *campaign.Schedule) { s.Templates = s.Templates[:1] }, false},
		{"invalid", func(s *campaign.Schedule) { s.Name = "" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := valid()
			cmd.Templates = append([]campaign.Template(nil), cmd.Templates...)
			tt.edit(&cmd)
			if got := c.Defines(cmd); got != tt.want {
				t.Errorf("Defines = %v, want %v", got, tt.want)
			}
		})
	}
	// Evaluated as of the scheduling: a day after the holiday, the same
	// request (whose date was looked up) still defines it.
	later := c.ScheduledAt().AddDate(0, 1, 0)
	if _, err := campaign.Validate(valid(), later); err != nil {
		t.Fatal(err) // the lookup now finds next year's
	}
	if !c.Defines(valid()) {
		t.Error("the same request no longer defines the campaign after its date")
	}
	if empty, _ := campaign.New("c2"); empty.Defines(valid()) {
		t.Error("a campaign that does not exist is defined by a request")
	}
}

func TestNotFoundAndCorrupt(t *testing.T) {
	c, _ := campaign.New("c1")
	if err := c.Start("d", 0, now); !errors.Is(err, aggregate.ErrNotFound) {
		t.Errorf("start unknown: %v", err)
	}
	if _, err := campaign.Rehydrate("c1", []campaign.Historic{{Event: &campaign.GreetingCampaignStarted{}}}); !errors.Is(err, aggregate.ErrCorruptHistory) {
		t.Errorf("rehydrate: %v", err)
	}
	if _, err := campaign.New("bad id"); !errors.Is(err, aggregate.ErrInvalidInput) {
		t.Errorf("new: %v", err)
	}
}

func TestRender(t *testing.T) {
	tests := []struct{ body, want string }{
		{"{{name}}，{{occasion}}快乐", "李雷，春节快乐"},
		{"Dear {{ name }}", "Dear 李雷"},
		{"no placeholders", "no placeholders"},
		{"{{other}} stays", "{{other}} stays"},
	}
	for _, tt := range tests {
		if got := campaign.Render(tt.body, "李雷", "春节"); got != tt.want {
			t.Errorf("Render(%q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{"{{name}}", "{{occasion}} {{name}}", "{{x}}", "}}{{", "{{name", "a}}b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		err := campaign.ParseTemplate("body", body)
		if err != nil {
			if !errors.Is(err, aggregate.ErrInvalidInput) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		// An accepted body renders with every placeholder replaced.
		out := campaign.Render(body, "N", "O")
		if err := campaign.ParseTemplate("out", out); err != nil && (len(out) >= 2) {
			// Rendering can only remove braces that belonged to placeholders;
			// values without braces cannot create new ones.
			t.Fatalf("rendered %q of accepted %q does not parse: %v", out, body, err)
		}
	})
}
