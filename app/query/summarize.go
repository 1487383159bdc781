package query

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kefu-crm/kefu/domain/customer"
)

// summarize writes a one-line summary of an event for the timeline: full
// may quote personal data; safe never does (shown to roles without PII
// access; "" means "use the event type").
func summarize(payload any) (full, safe string) {
	money := func(m customer.Money) string {
		return fmt.Sprintf("%d.%02d %s", m.AmountMinor/100, m.AmountMinor%100, m.Currency)
	}
	quote := func(s string) string {
		if s == "" {
			return ""
		}
		return ": " + s
	}
	switch e := payload.(type) {
	case *customer.CustomerRegistered:
		safe = fmt.Sprintf("registered (%s tier, account manager %s)", strings.ToLower(e.Tier.String()), orNone(e.AccountManager))
		return fmt.Sprintf("registered %s (%s tier, account manager %s)", e.Name, strings.ToLower(e.Tier.String()), orNone(e.AccountManager)), safe
	case *customer.ProfileUpdated:
		var fields []string
		for name, set := range map[string]bool{"name": e.Name != nil, "phone": e.Phone != nil, "email": e.Email != nil, "wechat": e.WeChat != nil,
			"tier": e.Tier != nil, "segment": e.Segment != nil, "account manager": e.AccountManager != nil, "timezone": e.Timezone != nil,
			"locale": e.Locale != nil, "birthday": e.Birthday != nil} {
			if set {
				fields = append(fields, name)
			}
		}
		slices.Sort(fields)
		s := "profile updated: " + strings.Join(fields, ", ")
		return s, s
	case *customer.MarketingConsentChanged:
		s := "marketing consent withdrawn"
		if e.Consent {
			s = "marketing consent given"
		}
		if e.Source != "" {
			s += " (" + e.Source + ")"
		}
		return s, s
	case *customer.ContactLogged:
		s := fmt.Sprintf("%s %s contact with %s", strings.ToLower(e.Direction.String()), strings.ToLower(e.Channel.String()), e.Agent)
		if e.ComplaintID != "" {
			s += " about complaint " + e.ComplaintID
		}
		return s + quote(e.Summary), s
	case *customer.PurchaseMade:
		s := fmt.Sprintf("purchase %s of %s", e.OrderID, money(e.Amount))
		return s, s
	case *customer.ReferralMade:
		s := "referred customer " + e.ReferredCustomerID
		return s, s
	case *customer.GrumbleVoiced:
		s := "grumbled by " + strings.ToLower(e.Channel.String())
		return s + quote(e.Summary), s
	case *customer.ComplaintFiled:
		s := fmt.Sprintf("%s complaint %s filed (%s), owner %s, reply due %s", strings.ToLower(e.Severity.String()), e.ComplaintID, e.Category, e.Owner, e.ReplyDueAt.Format("2006-01-02 15:04 MST"))
		return s + quote(e.Description), s
	case *customer.ComplaintAcknowledged:
		s := fmt.Sprintf("complaint %s acknowledged by %s", e.ComplaintID, e.By)
		return s, s
	case *customer.ComplaintEscalated:
		s := fmt.Sprintf("complaint %s escalated to %s by %s, reply promised by %s", e.ComplaintID, e.To, e.By, e.PromisedReplyBy.Format("2006-01-02 15:04 MST"))
		return s, s
	case *customer.ComplaintDeclined:
		s := fmt.Sprintf("complaint %s declined by %s: %s", e.ComplaintID, e.By, e.Reason)
		return s, s
	case *customer.ComplaintTransferred:
		s := fmt.Sprintf("complaint %s transferred from %s to %s: %s", e.ComplaintID, e.From, e.To, e.Reason)
		return s, s
	case *customer.ResolutionProposed:
		s := fmt.Sprintf("complaint %s: options proposed: %s", e.ComplaintID, strings.Join(e.Options, "; "))
		return s, s
	case *customer.ResolutionAccepted:
		s := fmt.Sprintf("complaint %s: customer chose %q", e.ComplaintID, e.Option)
		return s, s
	case *customer.RecoveryStepTaken:
		s := fmt.Sprintf("complaint %s: %s by %s", e.ComplaintID, strings.ToLower(strings.ReplaceAll(e.Step.String(), "_", " ")), e.By)
		if e.Compensation != nil {
			s += " (compensation " + money(*e.Compensation) + ")"
		}
		return s, s
	case *customer.ComplaintResolved:
		s := fmt.Sprintf("complaint %s resolved, customer %s", e.ComplaintID, strings.ToLower(e.Outcome.String()))
		return s, s
	case *customer.ComplaintReopened:
		s := fmt.Sprintf("complaint %s reopened by %s", e.ComplaintID, e.By)
		return s, s
	case *customer.IncidentReportFiled:
		s := fmt.Sprintf("incident report filed for complaint %s: cause %s", e.ComplaintID, e.Cause)
		return s, s
	case *customer.FollowUpScheduled:
		s := fmt.Sprintf("%s follow-up %s for %s due %s", strings.ToLower(strings.ReplaceAll(e.Reason.String(), "_", "-")), e.FollowUpID, e.Owner, e.DueAt.Format("2006-01-02"))
		return s, s
	case *customer.FollowUpCompleted:
		s := fmt.Sprintf("follow-up %s done by %s: %s", e.FollowUpID, e.By, strings.ToLower(strings.ReplaceAll(e.Outcome.String(), "_", " ")))
		return s, s
	case *customer.FollowUpCancelled:
		s := fmt.Sprintf("follow-up %s cancelled: %s", e.FollowUpID, e.Reason)
		return s, s
	case *customer.SatisfactionRecorded:
		s := fmt.Sprintf("satisfaction %d/5", e.Score)
		if e.ComplaintID != "" {
			s += " on complaint " + e.ComplaintID
		}
		return s + quote(e.Comment), s
	case *customer.GreetingSent:
		s := fmt.Sprintf("%s greeting sent by %s (campaign %s)", e.Occasion, strings.ToLower(e.Channel.String()), e.CampaignID)
		return s, s
	case *customer.GreetingFailed:
		s := fmt.Sprintf("%s greeting failed (campaign %s): %s", e.Occasion, e.CampaignID, e.Reason)
		return s, s
	case *customer.GreetingSkipped:
		s := fmt.Sprintf("%s greeting skipped (campaign %s): %s", e.Occasion, e.CampaignID, e.Reason)
		return s, s
	case *customer.CustomerMarkedLost:
		s := fmt.Sprintf("marked lost by %s: %s", e.By, e.Reason)
		return s, s
	case *customer.CustomerWonBack:
		s := "won back: " + e.Reason
		return s, s
	case *customer.ConductFlagged:
		s := fmt.Sprintf("%s conduct flagged by %s", strings.ToLower(e.Severity.String()), e.By)
		return s + quote(e.Note), s
	case *customer.CustomerErased:
		s := fmt.Sprintf("personal data erased by %s: %s", e.By, e.Reason)
		return s, s
	case *customer.CustomerMerged:
		s := fmt.Sprintf("merged into %s by %s: %s", e.Into, e.By, e.Reason)
		return s, s
	case *customer.CustomersMergedIn:
		s := fmt.Sprintf("merged in %s by %s: %s", strings.Join(e.From, ", "), e.By, e.Reason)
		if len(e.Choices) > 0 {
			var picks []string
			for _, ch := range e.Choices {
				picks = append(picks, ch.Field+" from "+ch.From)
			}
			s += " (kept " + strings.Join(picks, ", ") + ")"
		}
		return s, s
	case *customer.CustomerUnmerged:
		s := fmt.Sprintf("unmerged from %s by %s: %s", e.From, e.By, e.Reason)
		return s, s
	case *customer.CustomersUnmerged:
		s := fmt.Sprintf("unmerged %s by %s: %s", strings.Join(e.IDs, ", "), e.By, e.Reason)
		return s, s
	}
	return fmt.Sprintf("%T", payload), ""
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
