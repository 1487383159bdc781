package kurrent

// Exports of the mapping functions for the external tests.
var (
	ExpectedRevision   = expectedRevision
	ToPosition         = toPosition
	FromPosition       = fromPosition
	ReadCount          = readCount
	IsHidden           = isHidden
	SubscriptionFilter = subscriptionFilter
	EncodeMetadata     = encodeMetadata
	DecodeMetadata     = decodeMetadata
	ToEventData        = toEventData
	FromRecorded       = fromRecorded
	KindOf             = kindOf
	MapError           = mapError
	Permanent          = permanent
	EncodeKeyEvent     = encodeKeyEvent
	DecodeKeyEvent     = decodeKeyEvent
)
