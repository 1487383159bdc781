package e2e_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kefu-crm/kefu/internal/testenv"
)

// TestConsoleMarketer is mia's campaign through the console in headless
// Chromium, on a fresh `kefu serve --demo --auth`: the page asks for her
// token; she opens Campaigns, builds a campaign (occasion, date, local send
// time, audience of one account manager, a template per stage), reads the
// live preview counted by skip reason (checked against the API's own
// preview of the same campaign), schedules it and watches it send; then
// she schedules a Spring Festival greeting from the holiday calendar and
// cancels it. The audience is five customers registered through the API
// in a timezone where it is day now, so that today's 09:00 has passed and
// the dispatcher (every second here) sends at once.
func TestConsoleMarketer(t *testing.T) {
	testenv.Chromium(t)
	ctx := journey(t, 3*time.Minute)
	s := startServer(t, ctx, serveOpts{dir: t.TempDir(), args: []string{"--demo", "--demo-customers", "300",
		"--auth", writeTokens(t), "--dispatch-interval", "1s"}})
	admin, mia := s.client(tokAdmin), s.client(tokMarketing)
	zone, localDay := daytimeZone(time.Now())
	members := []struct {
		id, name, phone string
		consent, flag   bool
	}{
		{"cm-greet-1", "林晓", "+86 139 0000 0011", true, false},
		{"cm-greet-2", "周敏", "+86 139 0000 0012", true, false},
		{"cm-noconsent", "吴芳", "+86 139 0000 0013", false, false},
		{"cm-nophone", "郑强", "", true, false},
		{"cm-flagged", "王刚", "+86 139 0000 0015", true, true},
	}
	registered := time.Now().Add(-48 * time.Hour)
	for _, m := range members {
		in := map[string]any{"id": m.id, "name": m.name, "tier": "STANDARD", "accountManager": "e2e.console", "timezone": zone,
			"marketingConsent": m.consent, "email": m.id + "@example.com", "occurredAt": stamp(registered)}
		if m.phone != "" {
			in["phone"] = m.phone
		}
		admin.must(ctx, nil, `mutation($in: RegisterCustomerInput!) { registerCustomer(input: $in) { version } }`, map[string]any{"in": in})
		if m.flag {
			admin.must(ctx, nil, `mutation($in: FlagConductInput!) { flagConduct(input: $in) { version } }`,
				map[string]any{"in": map[string]any{"customerId": m.id, "by": "admin", "note": "shouted", "occurredAt": stamp(registered.Add(time.Hour))}})
		}
	}

	b := newBrowser(t, ctx)

	// With --auth the page asks for a token first.
	b.do("open the console", chromedp.Navigate(s.base+"/console/"), chromedp.WaitVisible("#login input[name=token]"))
	b.shot("m1-login")
	b.do("sign in as mia", chromedp.SendKeys("#login input[name=token]", tokMarketing), chromedp.Click("#login button[type=submit]"),
		chromedp.WaitVisible("#campaigns #builder"))
	b.forget() // the 401 that asked for the token
	if who := b.text("#who"); !strings.Contains(who, "mia") {
		t.Errorf("the header names %q, want mia", who)
	}
	if nav := b.text("#nav"); strings.Contains(nav, "My day") {
		t.Errorf("a marketer's navigation offers My day: %q", nav)
	}

	// Build the campaign: a custom occasion today, 09:00 local, the account
	// manager's customers, one template for the customers who need care and
	// one for the rest.
	const form = "#campaign-form "
	b.set(form+"select[name=occasion]", "")
	b.do("name the occasion", chromedp.SendKeys(form+"input[name=custom]", "Console anniversary"))
	b.set(form+"input[name=date]", localDay)
	b.set(form+"input[name=sendAtLocal]", "09:00")
	if got, _ := chromedp.Run(b.ctx, chromedp.Value(form+"input[name=name]")); got != "Console anniversary "+localDay[:4] {
		t.Errorf("the name the form proposes for the custom occasion = %q", got)
	}
	b.set(form+"input[name=name]", "控制台问候")
	b.do("pick the audience", chromedp.SendKeys(form+"input[name=accountManager]", "e2e.console"))
	b.set(form+".template:nth-of-type(1) textarea[name=body]", "{{name}}，我们一直在。")
	b.set(form+".template:nth-of-type(2) textarea[name=body]", "{{name}}，{{occasion}}快乐！")

	// The live preview follows the form: five in the audience, two greeted,
	// one skip for each reason.
	b.waitFor("the preview counts the account manager's five customers",
		`document.querySelector('#pv-audience')?.textContent === '5'`, 20*time.Second)
	b.shot("m2-campaign-preview")
	input := map[string]any{"name": "控制台问候", "occasion": "Console anniversary", "date": localDay, "sendAtLocal": "09:00",
		"audience":  map[string]any{"accountManager": "e2e.console", "stages": []string{"NEW", "ACTIVE", "GRUMBLING", "COMPLAINING", "SILENT"}, "excludeConductFlagged": true},
		"templates": []any{map[string]any{"channel": "SMS", "body": "x", "stages": []string{"GRUMBLING", "COMPLAINING", "SILENT"}}, map[string]any{"channel": "SMS", "body": "y"}}}
	var pv struct {
		PreviewGreetingCampaign struct {
			AudienceSize, Greeted, Skipped int
			SkippedByReason                []reasonCount
		}
	}
	mia.must(ctx, &pv, `query($in: ScheduleGreetingCampaignInput!) { previewGreetingCampaign(input: $in) {
		audienceSize greeted skipped skippedByReason { reason count } } }`, map[string]any{"in": input})
	api := pv.PreviewGreetingCampaign
	if got := b.text("#pv-greeted"); got != strconv.Itoa(api.Greeted) || api.Greeted != 2 {
		t.Errorf("preview greets %q in the console, %d by the API; want 2", got, api.Greeted)
	}
	for _, want := range []string{"NO_CONSENT", "NO_CHANNEL", "CONDUCT_FLAGGED"} {
		sel := fmt.Sprintf(`#pv-skipped li[data-reason=%q] strong`, want)
		got := b.text(sel)
		apiN := 0
		for _, r := range api.SkippedByReason {
			if r.Reason == want {
				apiN = r.Count
			}
		}
		if got != "1" || apiN != 1 {
			t.Errorf("preview skips for %s: %q in the console, %d by the API; want 1", want, got, apiN)
		}
	}

	// Schedule: the campaign's screen opens and its progress updates itself.
	b.do("schedule", chromedp.Click("#schedule"), chromedp.WaitVisible("#campaign #campaign-status"))
	id, err := chromedp.Run(b.ctx, chromedp.AttributeValue("#campaign", "data-id"))
	if err != nil || !id.Exists || id.Value == "" {
		t.Fatalf("the campaign screen names no campaign: %v %+v", err, id)
	}
	b.waitFor("the campaign sends to the two who can be greeted",
		`document.querySelector('#c-sent')?.textContent === '2'`, 60*time.Second)
	b.shot("m3-campaign-sent")
	if st, _ := chromedp.Run(b.ctx, chromedp.AttributeValue("#campaign-status", "data-status")); st.Value != "RUNNING" && st.Value != "COMPLETED" {
		t.Errorf("campaign status %q after sending, want RUNNING (until the day ends everywhere) or COMPLETED", st.Value)
	}
	var c struct{ Campaign campaignView }
	mia.must(ctx, &c, `query($id: ID!) { campaign(id: $id) { `+campaignFields+` } }`, map[string]any{"id": id.Value})
	if c.Campaign.Sent != 2 || c.Campaign.Name != "控制台问候" || c.Campaign.CreatedBy != "mia" || c.Campaign.Date == nil || *c.Campaign.Date != localDay || c.Campaign.SendAtLocal != "09:00" {
		t.Errorf("the API's campaign = %s; want 控制台问候, sent 2, by mia, on %s at 09:00", js(c.Campaign), localDay)
	}

	// The Spring Festival from the calendar, for the whole book, cancelled.
	b.do("back to campaigns", chromedp.Click(`#campaign a[href="#/campaigns"]`), chromedp.WaitVisible("#holidays"))
	b.do("use the Spring Festival", chromedp.Click(`#holidays tr[data-key="CN:spring_festival"] button`))
	b.waitFor("the form takes the holiday", `document.querySelector('#campaign-form input[name=name]').value.startsWith('Spring Festival')`, 5*time.Second)
	b.waitFor("the preview counts the book", `Number((document.querySelector('#pv-audience')?.textContent || '0').replace(/\D/g, '')) > 100`, 20*time.Second)
	b.do("schedule the greeting", chromedp.Click("#schedule"), chromedp.WaitVisible(`#campaign-status[data-status="SCHEDULED"]`))
	b.do("cancel it", chromedp.SendKeys("#cancel-form input[name=reason]", "budget moved to 元宵"), chromedp.Click("#cancel-form button[type=submit]"),
		chromedp.WaitVisible(`#campaign-status[data-status="CANCELLED"]`))
	if n, _ := chromedp.Run(b.ctx, chromedp.Nodes("#cancel-form", chromedp.AtLeast(0))); len(n) != 0 {
		t.Errorf("a cancelled campaign still offers Cancel")
	}
	b.shot("m4-campaign-cancelled")
	b.noErrors()
	t.Logf("screenshots in %s", b.art)
}
