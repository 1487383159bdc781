package customer_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kefu-crm/kefu/domain/aggregate"
	"github.com/kefu-crm/kefu/domain/customer"
)

func TestNew(t *testing.T) {
	for _, id := range []string{"a", "A-z_0.9", strings.Repeat("x", 64)} {
		if _, err := customer.New(id); err != nil {
			t.Errorf("New(%q) = %v", id, err)
		}
	}
	for _, id := range []string{"", "a b", "a/b", "é", strings.Repeat("x", 65), "a\n"} {
		_, err := customer.New(id)
		if !errors.Is(err, aggregate.ErrInvalidInput) {
			t.Errorf("New(%q) = %v, want invalid input", id, err)
		}
	}
}

func TestRegister(t *testing.T) {
	want := &customer.CustomerRegistered{
		CustomerID: custID, Name: "王小明", Phone: "+86 138-0000-0000", Email: "xm@example.com",
		Tier: customer.TierGold, AccountManager: "am-li", Timezone: "Asia/Shanghai",
		Locale: "zh-CN", Birthday: "1990-05-01", MarketingConsent: true,
	}
	bad := func(name string, mod func(*customer.Register)) tc {
		return tc{name: name, when: register(mod), wantErr: aggregate.ErrInvalidInput}
	}
	run(t, []tc{
		{name: "new customer", when: register(), then: []customer.Event{want},
			check: func(t *testing.T, c *customer.Customer) {
				if !c.Registered() || c.Name() != "王小明" || c.Tier() != customer.TierGold || !c.MarketingConsent() ||
					c.Timezone() != "Asia/Shanghai" || c.Locale() != "zh-CN" || c.AccountManager() != "am-li" {
					t.Errorf("state after register: %+v", c)
				}
				if !c.RegisteredAt().Equal(now.Add(-100 * 24 * time.Hour)) {
					t.Errorf("registeredAt = %v", c.RegisteredAt())
				}
			}},
		{name: "occurredAt zero means now", when: register(func(r *customer.Register) { r.OccurredAt = time.Time{} }),
			then: []customer.Event{want},
			check: func(t *testing.T, c *customer.Customer) {
				if !c.RegisteredAt().Equal(now) {
					t.Errorf("registeredAt = %v, want now", c.RegisteredAt())
				}
			}},
		{name: "already registered", given: []step{register()}, when: register(), wantErr: aggregate.ErrFailedPrecondition},
		bad("future occurredAt", func(r *customer.Register) { r.OccurredAt = now.Add(time.Second) }),
		bad("empty name", func(r *customer.Register) { r.Name = "  " }),
		bad("no tier", func(r *customer.Register) { r.Tier = customer.Tier{} }),
		bad("unknown timezone", func(r *customer.Register) { r.Timezone = "Mars/Olympus" }),
		bad("Local timezone", func(r *customer.Register) { r.Timezone = "Local" }),
		bad("empty timezone", func(r *customer.Register) { r.Timezone = "" }),
		bad("bad locale", func(r *customer.Register) { r.Locale = "chinese!" }),
		bad("empty locale", func(r *customer.Register) { r.Locale = "" }),
		bad("birthday not a date", func(r *customer.Register) { r.Birthday = "1990-02-30" }),
		bad("birthday wrong format", func(r *customer.Register) { r.Birthday = "01/05/1990" }),
		bad("birthday in the future", func(r *customer.Register) { r.Birthday = "2030-01-01" }),
		bad("bad phone", func(r *customer.Register) { r.Phone = "call me" }),
		bad("bad email", func(r *customer.Register) { r.Email = "nobody" }),
	})
}

func TestUpdateProfile(t *testing.T) {
	run(t, []tc{
		{name: "records only changed fields", given: []step{register()},
			when: func(c *customer.Customer) error {
				return c.UpdateProfile(customer.UpdateProfile{
					Name: ptr("王小明"), Tier: ptr(customer.TierVIP), Phone: ptr(""), AccountManager: ptr("am-zhao"),
				}, now)
			},
			then: []customer.Event{&customer.ProfileUpdated{Tier: ptr(customer.TierVIP), Phone: ptr(""), AccountManager: ptr("am-zhao")}},
			check: func(t *testing.T, c *customer.Customer) {
				if c.Tier() != customer.TierVIP || c.Phone() != "" || c.AccountManager() != "am-zhao" {
					t.Errorf("tier %v phone %q am %q", c.Tier(), c.Phone(), c.AccountManager())
				}
			}},
		{name: "nothing changes: no event", given: []step{register()},
			when: func(c *customer.Customer) error {
				return c.UpdateProfile(customer.UpdateProfile{Locale: ptr("zh-CN")}, now)
			}},
		{name: "no field", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: func(c *customer.Customer) error { return c.UpdateProfile(customer.UpdateProfile{}, now) }},
		{name: "clear name", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: func(c *customer.Customer) error {
				return c.UpdateProfile(customer.UpdateProfile{Name: ptr("")}, now)
			}},
		{name: "bad timezone", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: func(c *customer.Customer) error {
				return c.UpdateProfile(customer.UpdateProfile{Timezone: ptr("Nowhere/Town")}, now)
			}},
		{name: "unknown customer", wantErr: aggregate.ErrNotFound,
			when: func(c *customer.Customer) error {
				return c.UpdateProfile(customer.UpdateProfile{Name: ptr("x")}, now)
			}},
	})
}

func TestSetMarketingConsent(t *testing.T) {
	run(t, []tc{
		{name: "withdraw", given: []step{register()},
			when: func(c *customer.Customer) error {
				return c.SetMarketingConsent(customer.SetMarketingConsent{Consent: false, Source: "call"}, now)
			},
			then: []customer.Event{&customer.MarketingConsentChanged{Consent: false, Source: "call"}},
			check: func(t *testing.T, c *customer.Customer) {
				if c.MarketingConsent() {
					t.Error("consent still true")
				}
			}},
		{name: "future", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: func(c *customer.Customer) error {
				return c.SetMarketingConsent(customer.SetMarketingConsent{Consent: true, OccurredAt: now.Add(time.Hour)}, now)
			}},
		{name: "unknown customer", wantErr: aggregate.ErrNotFound,
			when: func(c *customer.Customer) error {
				return c.SetMarketingConsent(customer.SetMarketingConsent{Consent: true}, now)
			}},
	})
}

func TestLogContact(t *testing.T) {
	lc := func(mod func(*customer.LogContact)) step {
		return func(c *customer.Customer) error {
			cmd := customer.LogContact{Channel: customer.ChannelWeChat, Direction: customer.Inbound, Agent: "agent-zhang", Summary: "asked"}
			mod(&cmd)
			return c.LogContact(cmd, now)
		}
	}
	run(t, []tc{
		{name: "plain contact", given: []step{register()}, when: lc(func(*customer.LogContact) {}),
			then: []customer.Event{&customer.ContactLogged{Channel: customer.ChannelWeChat, Direction: customer.Inbound, Agent: "agent-zhang", Summary: "asked"}}},
		{name: "inbound on an open complaint counts as a repeat contact",
			given: []step{register(), file("c1", customer.SeverityGeneral)},
			when:  lc(func(l *customer.LogContact) { l.ComplaintID = "c1" }),
			then:  []customer.Event{&customer.ContactLogged{Channel: customer.ChannelWeChat, Direction: customer.Inbound, Agent: "agent-zhang", Summary: "asked", ComplaintID: "c1"}},
			check: func(t *testing.T, c *customer.Customer) {
				if cp, _ := c.Complaint("c1"); cp.RepeatContacts != 1 {
					t.Errorf("repeatContacts = %d, want 1", cp.RepeatContacts)
				}
			}},
		{name: "inbound on a resolved complaint is no repeat contact",
			given: []step{register(), file("c1", customer.SeverityGeneral), ack("c1"), resolve("c1", customer.Satisfied)},
			when:  lc(func(l *customer.LogContact) { l.ComplaintID = "c1" }),
			then:  []customer.Event{&customer.ContactLogged{Channel: customer.ChannelWeChat, Direction: customer.Inbound, Agent: "agent-zhang", Summary: "asked", ComplaintID: "c1"}},
			check: func(t *testing.T, c *customer.Customer) {
				if cp, _ := c.Complaint("c1"); cp.RepeatContacts != 0 {
					t.Errorf("repeatContacts = %d, want 0", cp.RepeatContacts)
				}
			}},
		{name: "unknown complaint", given: []step{register()}, wantErr: aggregate.ErrNotFound,
			when: lc(func(l *customer.LogContact) { l.ComplaintID = "nope" })},
		{name: "bad complaint id", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: lc(func(l *customer.LogContact) { l.ComplaintID = "no pe" })},
		{name: "no channel", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: lc(func(l *customer.LogContact) { l.Channel = customer.Channel{} })},
		{name: "no direction", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: lc(func(l *customer.LogContact) { l.Direction = customer.Direction{} })},
		{name: "no agent", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: lc(func(l *customer.LogContact) { l.Agent = "" })},
		{name: "future", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: lc(func(l *customer.LogContact) { l.OccurredAt = now.Add(time.Minute) })},
		{name: "before the registration", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: lc(func(l *customer.LogContact) { l.OccurredAt = now.AddDate(-3, 0, 0) })},
		{name: "backfill is fine", given: []step{register()},
			when: lc(func(l *customer.LogContact) { l.OccurredAt = now.AddDate(0, 0, -30) }),
			then: []customer.Event{&customer.ContactLogged{Channel: customer.ChannelWeChat, Direction: customer.Inbound, Agent: "agent-zhang", Summary: "asked"}}},
		{name: "unknown customer", wantErr: aggregate.ErrNotFound, when: lc(func(*customer.LogContact) {})},
	})
}

func TestRecordPurchase(t *testing.T) {
	buy := func(order string, m customer.Money) step {
		return func(c *customer.Customer) error {
			return c.RecordPurchase(customer.RecordPurchase{OrderID: order, Amount: m, Items: []string{"rice"}}, now)
		}
	}
	ok := customer.Money{AmountMinor: 12_50, Currency: "CNY"}
	run(t, []tc{
		{name: "purchase", given: []step{register()}, when: buy("o-1", ok),
			then: []customer.Event{&customer.PurchaseMade{OrderID: "o-1", Amount: ok, Items: []string{"rice"}}},
			check: func(t *testing.T, c *customer.Customer) {
				if c.PurchaseCount() != 1 {
					t.Errorf("purchases = %d", c.PurchaseCount())
				}
			}},
		{name: "zero amount is fine", given: []step{register()}, when: buy("o-1", customer.Money{Currency: "USD"}),
			then: []customer.Event{&customer.PurchaseMade{OrderID: "o-1", Amount: customer.Money{Currency: "USD"}, Items: []string{"rice"}}}},
		{name: "negative amount", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: buy("o-1", customer.Money{AmountMinor: -1, Currency: "CNY"})},
		{name: "lower-case currency", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: buy("o-1", customer.Money{AmountMinor: 1, Currency: "cny"})},
		{name: "long currency", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: buy("o-1", customer.Money{AmountMinor: 1, Currency: "CNYY"})},
		{name: "no order id", given: []step{register()}, wantErr: aggregate.ErrInvalidInput, when: buy("", ok)},
		{name: "empty item", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: func(c *customer.Customer) error {
				return c.RecordPurchase(customer.RecordPurchase{OrderID: "o", Amount: ok, Items: []string{""}}, now)
			}},
		{name: "order recorded twice", given: []step{register(), buy("o-1", ok)}, wantErr: aggregate.ErrFailedPrecondition, when: buy("o-1", ok)},
	})
}

func TestRecordReferral(t *testing.T) {
	ref := func(id string) step {
		return func(c *customer.Customer) error {
			return c.RecordReferral(customer.RecordReferral{ReferredCustomerID: id}, now)
		}
	}
	run(t, []tc{
		{name: "referral", given: []step{register()}, when: ref("cust-2"),
			then: []customer.Event{&customer.ReferralMade{ReferredCustomerID: "cust-2"}},
			check: func(t *testing.T, c *customer.Customer) {
				if r := c.Referrals(); len(r) != 1 || r[0] != "cust-2" {
					t.Errorf("referrals = %v", r)
				}
			}},
		{name: "self", given: []step{register()}, wantErr: aggregate.ErrInvalidInput, when: ref(custID)},
		{name: "bad id", given: []step{register()}, wantErr: aggregate.ErrInvalidInput, when: ref("a b")},
		{name: "twice", given: []step{register(), ref("cust-2")}, wantErr: aggregate.ErrFailedPrecondition, when: ref("cust-2")},
		{name: "unknown customer", wantErr: aggregate.ErrNotFound, when: ref("cust-2")},
	})
}

func TestVoiceGrumble(t *testing.T) {
	g := func(ch customer.Channel, s string) step {
		return func(c *customer.Customer) error {
			return c.VoiceGrumble(customer.VoiceGrumble{Channel: ch, Summary: s}, now)
		}
	}
	run(t, []tc{
		{name: "grumble", given: []step{register()}, when: g(customer.ChannelChat, "slow"),
			then: []customer.Event{&customer.GrumbleVoiced{Channel: customer.ChannelChat, Summary: "slow"}}},
		{name: "no summary", given: []step{register()}, wantErr: aggregate.ErrInvalidInput, when: g(customer.ChannelChat, "")},
		{name: "no channel", given: []step{register()}, wantErr: aggregate.ErrInvalidInput, when: g(customer.Channel{}, "slow")},
	})
}

func TestRecordSatisfaction(t *testing.T) {
	sat := func(score int, complaintID string) step {
		return func(c *customer.Customer) error {
			return c.RecordSatisfaction(customer.RecordSatisfaction{Score: score, ComplaintID: complaintID}, now)
		}
	}
	run(t, []tc{
		{name: "score 5", given: []step{register()}, when: sat(5, ""), then: []customer.Event{&customer.SatisfactionRecorded{Score: 5}}},
		{name: "score 1 on a complaint", given: []step{register(), file("c1", customer.SeverityGeneral)}, when: sat(1, "c1"),
			then: []customer.Event{&customer.SatisfactionRecorded{Score: 1, ComplaintID: "c1"}},
			check: func(t *testing.T, c *customer.Customer) {
				if cp, _ := c.Complaint("c1"); len(cp.SurveyScores) != 1 || cp.SurveyScores[0] != 1 {
					t.Errorf("survey scores = %v", cp.SurveyScores)
				}
			}},
		{name: "score 0", given: []step{register()}, wantErr: aggregate.ErrInvalidInput, when: sat(0, "")},
		{name: "score 6", given: []step{register()}, wantErr: aggregate.ErrInvalidInput, when: sat(6, "")},
		{name: "unknown complaint", given: []step{register()}, wantErr: aggregate.ErrNotFound, when: sat(3, "c9")},
	})
}

func TestGreetings(t *testing.T) {
	sent := func(campaign string) step {
		return func(c *customer.Customer) error {
			return c.RecordGreetingSent(customer.RecordGreetingSent{CampaignID: campaign, Occasion: "CN:spring_festival", Channel: customer.ChannelSMS, Template: 1}, now)
		}
	}
	failed := func(campaign string) step {
		return func(c *customer.Customer) error {
			return c.RecordGreetingFailed(customer.RecordGreetingFailed{CampaignID: campaign, Occasion: "CN:spring_festival", Channel: customer.ChannelSMS, Reason: "gateway 500", Attempts: 5}, now)
		}
	}
	skipped := func(campaign string) step {
		return func(c *customer.Customer) error {
			return c.RecordGreetingSkipped(customer.RecordGreetingSkipped{CampaignID: campaign, Occasion: "CN:spring_festival", Reason: "NO_CONSENT"}, now)
		}
	}
	noConsent := register(func(r *customer.Register) { r.MarketingConsent = false })
	run(t, []tc{
		{name: "sent with consent", given: []step{register()}, when: sent("camp-1"),
			then: []customer.Event{&customer.GreetingSent{CampaignID: "camp-1", Occasion: "CN:spring_festival", Channel: customer.ChannelSMS, Template: 1}},
			check: func(t *testing.T, c *customer.Customer) {
				if g, ok := c.Greeting("camp-1"); !ok || g.Status != customer.DeliverySent {
					t.Errorf("greeting = %+v, %v", g, ok)
				}
			}},
		{name: "sent without consent", given: []step{noConsent}, wantErr: aggregate.ErrFailedPrecondition, when: sent("camp-1")},
		{name: "sent after consent withdrawn", given: []step{register(), func(c *customer.Customer) error {
			return c.SetMarketingConsent(customer.SetMarketingConsent{Consent: false}, now)
		}}, wantErr: aggregate.ErrFailedPrecondition, when: sent("camp-1")},
		{name: "same campaign twice", given: []step{register(), sent("camp-1")}, wantErr: aggregate.ErrFailedPrecondition, when: sent("camp-1")},
		{name: "sent after failed", given: []step{register(), failed("camp-1")}, wantErr: aggregate.ErrFailedPrecondition, when: sent("camp-1")},
		{name: "another campaign", given: []step{register(), sent("camp-1")}, when: sent("camp-2"),
			then: []customer.Event{&customer.GreetingSent{CampaignID: "camp-2", Occasion: "CN:spring_festival", Channel: customer.ChannelSMS, Template: 1}}},
		{name: "failed", given: []step{register()}, when: failed("camp-1"),
			then: []customer.Event{&customer.GreetingFailed{CampaignID: "camp-1", Occasion: "CN:spring_festival", Channel: customer.ChannelSMS, Reason: "gateway 500", Attempts: 5}}},
		{name: "skipped without consent", given: []step{noConsent}, when: skipped("camp-1"),
			then: []customer.Event{&customer.GreetingSkipped{CampaignID: "camp-1", Occasion: "CN:spring_festival", Reason: "NO_CONSENT"}},
			check: func(t *testing.T, c *customer.Customer) {
				if g, _ := c.Greeting("camp-1"); g.Status != customer.DeliverySkipped || g.Reason != "NO_CONSENT" {
					t.Errorf("greeting = %+v", g)
				}
			}},
		{name: "skipped twice", given: []step{noConsent, skipped("camp-1")}, wantErr: aggregate.ErrFailedPrecondition, when: skipped("camp-1")},
		{name: "bad campaign id", given: []step{register()}, wantErr: aggregate.ErrInvalidInput, when: sent("")},
		{name: "negative template", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: func(c *customer.Customer) error {
				return c.RecordGreetingSent(customer.RecordGreetingSent{CampaignID: "x", Occasion: "o", Channel: customer.ChannelSMS, Template: -1}, now)
			}},
		{name: "failed without reason", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: func(c *customer.Customer) error {
				return c.RecordGreetingFailed(customer.RecordGreetingFailed{CampaignID: "x", Occasion: "o", Channel: customer.ChannelSMS}, now)
			}},
		{name: "sent to an erased customer", given: []step{register(), erase()}, wantErr: aggregate.ErrFailedPrecondition, when: sent("camp-1")},
	})
}

func TestLostAndWonBack(t *testing.T) {
	winBack := func(c *customer.Customer) error {
		return c.WinBack(customer.WinBack{Reason: "ordered again"}, now)
	}
	run(t, []tc{
		{name: "mark lost", given: []step{register()}, when: markLost(),
			then: []customer.Event{&customer.CustomerMarkedLost{Reason: "moved away", By: "am-li"}},
			check: func(t *testing.T, c *customer.Customer) {
				if !c.MarkedLost() {
					t.Error("not marked lost")
				}
			}},
		{name: "mark lost twice", given: []step{register(), markLost()}, wantErr: aggregate.ErrFailedPrecondition, when: markLost()},
		{name: "mark lost without reason", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: func(c *customer.Customer) error { return c.MarkLost(customer.MarkLost{By: "x"}, now) }},
		{name: "win back", given: []step{register(), markLost()}, when: winBack,
			then: []customer.Event{&customer.CustomerWonBack{Reason: "ordered again"}},
			check: func(t *testing.T, c *customer.Customer) {
				if c.MarkedLost() {
					t.Error("still marked lost")
				}
			}},
		{name: "win back a customer not marked lost", given: []step{register()}, wantErr: aggregate.ErrFailedPrecondition, when: winBack},
		{name: "lost again after win back", given: []step{register(), markLost(), winBack}, when: markLost(),
			then: []customer.Event{&customer.CustomerMarkedLost{Reason: "moved away", By: "am-li"}}},
	})
}

func TestFlagConduct(t *testing.T) {
	flag := func(sev customer.Severity, note string) step {
		return func(c *customer.Customer) error {
			return c.FlagConduct(customer.FlagConduct{Severity: sev, Note: note, By: "agent-zhang"}, now)
		}
	}
	run(t, []tc{
		{name: "flag", given: []step{register()}, when: flag(customer.SeverityMajor, "shouted"),
			then: []customer.Event{&customer.ConductFlagged{Severity: customer.SeverityMajor, Note: "shouted", By: "agent-zhang"}},
			check: func(t *testing.T, c *customer.Customer) {
				if !c.ConductFlagged() {
					t.Error("not flagged")
				}
			}},
		{name: "no note", given: []step{register()}, wantErr: aggregate.ErrInvalidInput, when: flag(customer.SeverityGeneral, "")},
		{name: "no severity", given: []step{register()}, wantErr: aggregate.ErrInvalidInput, when: flag(customer.Severity{}, "x")},
	})
}

func TestErase(t *testing.T) {
	run(t, []tc{
		{name: "erase", given: []step{register(), file("c1", customer.SeverityGeneral)}, when: erase(),
			then: []customer.Event{&customer.CustomerErased{By: "admin", Reason: "customer request"}},
			check: func(t *testing.T, c *customer.Customer) {
				cp, _ := c.Complaint("c1")
				if !c.Erased() || c.Name() != "" || c.Phone() != "" || c.Email() != "" || c.Birthday() != "" || cp.Description != "" {
					t.Errorf("personal data kept after erasure: %q %q %q %q %q", c.Name(), c.Phone(), c.Email(), c.Birthday(), cp.Description)
				}
			}},
		{name: "erase twice", given: []step{register(), erase()}, wantErr: aggregate.ErrFailedPrecondition, when: erase()},
		{name: "erase unknown", wantErr: aggregate.ErrNotFound, when: erase()},
		{name: "erase without reason", given: []step{register()}, wantErr: aggregate.ErrInvalidInput,
			when: func(c *customer.Customer) error { return c.Erase(customer.Erase{By: "admin"}, now) }},
	})
}

// TestNothingAfterErasure: every verb is refused once the customer is
// erased (a valid command, so the refusal is the erasure rule).
func TestNothingAfterErasure(t *testing.T) {
	given := []step{
		register(), file("c1", customer.SeverityGeneral), ack("c1"), schedule("f1", "c1", ""),
		file("c2", customer.SeverityGeneral), ack("c2"), resolve("c2", customer.Satisfied), erase(),
	}
	verbs := map[string]step{
		"register": register(),
		"updateProfile": func(c *customer.Customer) error {
			return c.UpdateProfile(customer.UpdateProfile{Segment: ptr("x")}, now)
		},
		"consent": func(c *customer.Customer) error {
			return c.SetMarketingConsent(customer.SetMarketingConsent{Consent: true}, now)
		},
		"contact": contact("", customer.Inbound, time.Time{}),
		"purchase": func(c *customer.Customer) error {
			return c.RecordPurchase(customer.RecordPurchase{OrderID: "o", Amount: customer.Money{Currency: "CNY"}}, now)
		},
		"referral": func(c *customer.Customer) error {
			return c.RecordReferral(customer.RecordReferral{ReferredCustomerID: "z"}, now)
		},
		"grumble": func(c *customer.Customer) error {
			return c.VoiceGrumble(customer.VoiceGrumble{Channel: customer.ChannelSMS, Summary: "x"}, now)
		},
		"file":     file("c3", customer.SeverityGeneral),
		"escalate": escalate("c1"),
		"propose":  propose("c1", "a"),
		"decline":  decline("c1"),
		"recovery": recovery("c1", customer.StepApology, nil),
		"resolve":  resolve("c1", customer.Satisfied),
		"reopen":   reopen("c2"),
		"transfer": func(c *customer.Customer) error {
			return c.TransferComplaint(customer.TransferComplaint{ComplaintID: "c1", By: "x", To: "y", Reason: "z"}, now)
		},
		"schedule": schedule("f2", "", "am"),
		"complete": func(c *customer.Customer) error {
			return c.CompleteFollowUp(customer.CompleteFollowUp{FollowUpID: "f1", By: "x", Outcome: customer.FollowUpSatisfied}, now)
		},
		"cancel": func(c *customer.Customer) error {
			return c.CancelFollowUp(customer.CancelFollowUp{FollowUpID: "f1", By: "x", Reason: "y"}, now)
		},
		"satisfaction": func(c *customer.Customer) error {
			return c.RecordSatisfaction(customer.RecordSatisfaction{Score: 3}, now)
		},
		"greetingSkipped": func(c *customer.Customer) error {
			return c.RecordGreetingSkipped(customer.RecordGreetingSkipped{CampaignID: "g", Occasion: "o", Reason: "ERASED"}, now)
		},
		"markLost": markLost(),
		"flag": func(c *customer.Customer) error {
			return c.FlagConduct(customer.FlagConduct{Severity: customer.SeverityGeneral, Note: "x", By: "y"}, now)
		},
	}
	var cases []tc
	for name, v := range verbs {
		cases = append(cases, tc{name: name, given: given, when: v, wantErr: aggregate.ErrFailedPrecondition})
	}
	run(t, cases)
}
