// Package stage names the lifecycle stages of a customer (DESIGN §4):
// the one list that the lifecycle projection computes, campaign audiences
// and templates name, and the API's Stage enum shows.
package stage

// The stages, in the order the API lists them.
const (
	New         = "NEW"
	Active      = "ACTIVE"
	Loyal       = "LOYAL"
	Grumbling   = "GRUMBLING"
	Complaining = "COMPLAINING"
	Silent      = "SILENT"
	Dormant     = "DORMANT"
	Lost        = "LOST"
)

// Names lists the stages in order.
func Names() []string {
	return []string{New, Active, Loyal, Grumbling, Complaining, Silent, Dormant, Lost}
}
