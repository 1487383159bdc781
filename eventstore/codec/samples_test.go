package codec_test

import (
	"time"

	"github.com/kefu-crm/kefu/domain/customer"
	"github.com/kefu-crm/kefu/eventstore/codec"
)

// customerSpecs adapts the domain's spec list the way main does.
func customerSpecs() []codec.Spec { return codec.SpecsOf(customer.Events()) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func ptr[T any](v T) *T { return &v }

// samples has one event of every customer type with every field set, so a
// round trip that drops a field fails.
func samples() map[string]customer.Event {
	at := time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)
	phone := must(customer.ParseChannel("PHONE"))
	major := must(customer.ParseSeverity("MAJOR"))
	money := customer.Money{AmountMinor: 12345, Currency: "CNY"}
	list := []customer.Event{
		&customer.CustomerRegistered{CustomerID: "c-1", Name: "王小明", Phone: "+86 138 0013 8000", Email: "xm@example.cn", WeChat: "wxid_abc",
			Tier: must(customer.ParseTier("GOLD")), Segment: "retail", AccountManager: "am-1", Timezone: "Asia/Shanghai", Locale: "zh-CN", Birthday: "1980-02-29", MarketingConsent: true},
		&customer.ProfileUpdated{Name: ptr("王大明"), Phone: ptr("+86 139"), Email: ptr("dm@example.cn"), WeChat: ptr("wxid_x"), Tier: ptr(must(customer.ParseTier("VIP"))),
			Segment: ptr("b2b"), AccountManager: ptr("am-2"), Timezone: ptr("Asia/Hong_Kong"), Locale: ptr("zh-HK"), Birthday: ptr("1981-01-01")},
		&customer.MarketingConsentChanged{Consent: true, Channel: "SMS", Source: "web form"},
		&customer.ContactLogged{Channel: phone, Direction: must(customer.ParseDirection("INBOUND")), Agent: "agent-7", Summary: "asked about the invoice", ComplaintID: "k-1"},
		&customer.PurchaseMade{OrderID: "o-1", Amount: money, Items: []string{"tea", "cups"}},
		&customer.ReferralMade{ReferredCustomerID: "c-2"},
		&customer.GrumbleVoiced{Channel: phone, Summary: "delivery was slow", Agent: "agent-7"},
		&customer.ComplaintFiled{ComplaintID: "k-1", Channel: phone, Category: "delivery", Severity: major, Description: "parcel lost", Owner: "agent-7", ReplyDueAt: at, ReplyDueProvisional: true},
		&customer.ComplaintAcknowledged{ComplaintID: "k-1", By: "agent-7", Note: "on it"},
		&customer.ComplaintEscalated{ComplaintID: "k-1", By: "agent-7", To: "mgr-1", Reason: "major", PromisedReplyBy: at.Add(time.Hour)},
		&customer.ComplaintDeclined{ComplaintID: "k-1", By: "agent-7", Reason: "outside contract"},
		&customer.ComplaintTransferred{ComplaintID: "k-1", By: "agent-7", From: "agent-7", To: "agent-8", Reason: "shift end"},
		&customer.ResolutionProposed{ComplaintID: "k-1", By: "agent-8", Options: []string{"refund", "resend"}},
		&customer.ResolutionAccepted{ComplaintID: "k-1", OptionIndex: 1, Option: "resend"},
		&customer.RecoveryStepTaken{ComplaintID: "k-1", Step: must(customer.ParseRecoveryStep("SYMBOLIC_ATONEMENT")), By: "agent-8", Note: "voucher", Compensation: &money},
		&customer.ComplaintResolved{ComplaintID: "k-1", By: "agent-8", Outcome: must(customer.ParseOutcome("SATISFIED")), Note: "happy"},
		&customer.ComplaintReopened{ComplaintID: "k-1", By: "agent-8", Note: "not happy after all"},
		&customer.IncidentReportFiled{ComplaintID: "k-1", By: "mgr-1", Impact: "one order", Handling: "resent", Cause: "courier", CorrectiveActions: "switch courier"},
		&customer.FollowUpScheduled{FollowUpID: "f-1", ComplaintID: "k-1", Reason: must(customer.ParseFollowUpReason("RECOVERY")), Owner: "agent-8", DueAt: at, Note: "call back"},
		&customer.FollowUpCompleted{FollowUpID: "f-1", By: "agent-8", Outcome: customer.FollowUpOutcomes()[0], Note: "done"},
		&customer.FollowUpCancelled{FollowUpID: "f-2", By: "agent-8", Reason: "duplicate"},
		&customer.SatisfactionRecorded{Score: 4, Comment: "nice people", ComplaintID: "k-1"},
		&customer.GreetingSent{CampaignID: "g-1", Occasion: "SPRING_FESTIVAL", Channel: phone, Template: 2, Attempts: 1},
		&customer.GreetingFailed{CampaignID: "g-1", Occasion: "SPRING_FESTIVAL", Channel: phone, Reason: "bounced", Attempts: 3},
		&customer.GreetingSkipped{CampaignID: "g-1", Occasion: "SPRING_FESTIVAL", Reason: "NO_CONSENT", Channel: phone},
		&customer.CustomerMarkedLost{Reason: "moved away", By: "am-1"},
		&customer.CustomerWonBack{Reason: "came back"},
		&customer.ConductFlagged{Severity: major, Note: "shouted at staff", By: "agent-7"},
		&customer.CustomerErased{By: "admin", Reason: "request"},
		&customer.CustomerMerged{Into: "c-2", By: "am-li", Reason: "same phone"},
		&customer.CustomersMergedIn{From: []string{"c-1"}, By: "am-li", Reason: "same phone",
			Choices: []customer.ProfileChoice{{Field: "email", From: "c-1"}},
			Name:    ptr("王小明"), Phone: ptr("+8613800000000"), Email: ptr("xm@example.com"), WeChat: ptr("xm"), Birthday: ptr("1990-05-01"),
			Tier: ptr(customer.TierGold), Segment: ptr("retail"), AccountManager: ptr("am-li"), Timezone: ptr("Asia/Shanghai"), Locale: ptr("zh-CN")},
		&customer.CustomerUnmerged{From: "c-2", By: "am-li", Reason: "two people"},
		&customer.CustomersUnmerged{IDs: []string{"c-1"}, By: "am-li", Reason: "two people"},
	}
	out := make(map[string]customer.Event, len(list))
	for _, e := range list {
		out[e.EventType()] = e
	}
	return out
}
