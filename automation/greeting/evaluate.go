package greeting

import (
	"context"

	"github.com/kefu-crm/kefu/domain/campaign"
)

// countAudience counts a campaign's audience over the directory, with the
// stages as they are now: the customers it covers (Covers) and does
// not exclude, and the excluded ones by reason. Scheduling records the
// count, and the dispatcher records it again when sending starts.
func countAudience(ctx context.Context, dir Directory, stages StageSource, def *campaign.GreetingCampaignScheduled) (int, map[string]int, error) {
	n, excluded := 0, map[string]int{}
	err := dir.Each(ctx, func(r Recipient) error {
		if _, ok := campaign.Covers(def, &r); !ok {
			return nil
		}
		if x := campaign.Exclusion(def, &r, stages.StageOf(r.CustomerID)); x != "" {
			excluded[x]++
			return nil
		}
		n++
		return nil
	})
	return n, excluded, err
}
