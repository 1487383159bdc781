// Package followup is the follow-up scheduler: a process manager that
// reads the customer events (through the projections runtime, like a read
// model) and plans follow-ups (回访) on account managers' queues.
//
// # What it plans
//
//	trigger                                    follow-up (reason, due)                     ID
//	ComplaintResolved SATISFIED at t           RECOVERY t+3d and RECOVERY t+30d            fu-<complaint>-<n>, n+1
//	ComplaintResolved UNSATISFIED at t         RECOVERY t+7d                               fu-<complaint>-<n>
//	FollowUpCompleted UNSATISFIED/NO_ANSWER    one more try at completion+3d, at most      <original>.r<try>
//	  at t                                     2 extra tries per follow-up (same reason,
//	                                           complaint and owner as the one completed)
//	customer enters SILENT at t                WIN_BACK at 09:00 of the first working      wb-<customer>-<t UTC>
//	  (lifecycle OnChange hook)                day after t's day (working calendar)
//	a major CN holiday (春节, 劳动节, 国庆)     HOLIDAY at the start of the last working    hol-<customer>-<occasion>-<year>
//	  is ≤ 14 days away (clock tick) and the   day before the holiday (节前问候: the
//	  customer had a SATISFIED resolution in   holiday itself is a day off, and a call
//	  the 90 days before the holiday           after it is late)
//	a customer's next purchase of an item      REPLENISHMENT at the start of the working   rp-<customer>-<last purchase
//	  category is predicted (replenish read    day ReplenishLead (3 days) before the       day>-<category hash>
//	  model) within ReplenishLead of now       predicted day (or the last working day
//	  (clock tick) in a category bought on a   before it); the note names the category
//	  rhythm (prior shape k ≥ 2), the customer and the latest item
//	  consents to marketing and has no
//	  grievance
//
// n numbers the recovery follow-ups of one complaint in the order they are
// planned: a complaint reopened and resolved again continues the
// numbering, so its second round never collides with its first. The IDs
// come from domain/customer (RecoveryFollowUpID, RetryFollowUpID,
// WinBackFollowUpID, HolidayFollowUpID, ReplenishmentFollowUpID), the same
// functions the seed uses,
// so a seeded history and the scheduler plan identical IDs.
//
// Owner: the complaint's owner when the follow-up is about a complaint
// (recovery, holiday), else the account manager; a win-back goes to the
// account manager, else to the owner of the customer's latest complaint; a
// replenishment call goes to the account manager only (a customer without
// one, or without marketing consent, is refused); a retry keeps the owner of the follow-up it retries. The owner is decided
// when the command runs, from the customer's current state, so a transfer
// made before then is respected.
//
// # Replenishment calls (补货提醒)
//
// "Not in a grievance" is the lifecycle's notion (DESIGN §4): no open
// complaint, none closed UNSATISFIED or declined and not yet settled, no
// unanswered grumble (Deps.Contacts reports the count). It is checked when
// the call is planned and again when its command runs; a customer who
// complains or withdraws consent in between is dropped (Obsolete). The ID
// names the purchase cycle — the latest purchase day of the category — so
// a prediction that moves as the category's prior is refitted keeps its
// ID, and a new purchase starts a new cycle with a new call.
//
// # Never twice
//
// Apply only records what should exist (a pending Action); Run's worker
// issues the commands. The pending actions and the little the scheduler
// must remember (recovery numbering per complaint, recent recoveries) are
// its Snapshot, saved by the runtime with the log position they reflect, so
// a restart resumes after the checkpoint with the same plans. Every
// follow-up ID is a pure function of the history, so when an action is
// repeated — a crash between a command and the next checkpoint, a rebuild
// from zero, a second scheduler — the aggregate already has that ID and
// refuses it (aggregate.PreconditionError); the Commander turns that into
// ErrAlreadyScheduled and the action counts as done. Commands also carry an
// idempotency key ("followup/<id>"), so even a lost response is a retry,
// not a second event. A FollowUpScheduled seen in the log cancels the
// pending action with its ID, so history that already contains the
// follow-up (a seeded history, an earlier run) costs no command at all.
//
// # History and staleness
//
// The scheduler acts on history: a fresh install, a lost checkpoint or a
// rebuild replays the whole log. It never schedules a follow-up whose due
// time is more than Policy.MaxLateness (7 days) before now, checked both
// when planning and when the command runs; such actions are counted as
// Stale and dropped. So importing two years of history queues only what is
// still worth doing — the +30-day call of a complaint resolved last week,
// not the +3-day call of one resolved last year — and the account managers
// are not flooded. Because staleness only grows with time, a later replay
// never plans anything an earlier run skipped.
//
// The worker waits for Config.Ready (the runtime's Ready channel) before
// its first command, so catch-up finishes first and the follow-ups already
// in the log have cancelled their pending actions.
//
// # Wiring
//
//	sched, _ := followup.New(followup.Deps{Commander: followup.RepositoryCommander{Repo: repo}, Calendar: cal, Stages: lifecycleProjector}, followup.Config{Ready: rt.Ready()})
//	lp, _ := lifecycle.New(lifecycle.Config{Policy: p, OnChange: sched.StageChanged})
//	rt, _ := projections.New(projections.Deps{Projections: []projections.Projection{…, sched}}, projections.Config{CheckpointDir: dir})
//	go sched.Run(ctx)
//
// The lifecycle projector is rebuilt from zero at every start and replays
// its stage changes through the hook; win-backs already scheduled are
// refused as duplicates (and remembered for MaxLateness, so most cost no
// command), stale ones are dropped, and one whose customer is no longer
// SILENT when the command would run is dropped (Stages).
package followup
