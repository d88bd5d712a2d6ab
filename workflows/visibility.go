package workflows

import (
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Search attributes every case workflow keeps up to date, so the Temporal
// Web UI and `temporal workflow list --query` find cases as managers think of
// them ("HuntdeskBreached = true AND HuntdeskOrgId = '…'"). They must be
// registered on the namespace (the dev stack does it; production: see the
// README) before a case runs with InquiryParams/ApplicationParams
// SearchAttributes set.
var (
	SAOrgID    = temporal.NewSearchAttributeKeyKeyword("HuntdeskOrgId")
	SAKind     = temporal.NewSearchAttributeKeyKeyword("HuntdeskKind")
	SAStatus   = temporal.NewSearchAttributeKeyKeyword("HuntdeskStatus")
	SAAssignee = temporal.NewSearchAttributeKeyKeyword("HuntdeskAssignee")
	SADueAt    = temporal.NewSearchAttributeKeyTime("HuntdeskDueAt")
	SABreached = temporal.NewSearchAttributeKeyBool("HuntdeskBreached")
)

// SearchAttributeTypes lists the attributes with their types, for
// registration.
func SearchAttributeTypes() map[string]enums.IndexedValueType {
	return map[string]enums.IndexedValueType{
		SAOrgID.GetName(): enums.INDEXED_VALUE_TYPE_KEYWORD, SAKind.GetName(): enums.INDEXED_VALUE_TYPE_KEYWORD,
		SAStatus.GetName(): enums.INDEXED_VALUE_TYPE_KEYWORD, SAAssignee.GetName(): enums.INDEXED_VALUE_TYPE_KEYWORD,
		SADueAt.GetName(): enums.INDEXED_VALUE_TYPE_DATETIME, SABreached.GetName(): enums.INDEXED_VALUE_TYPE_BOOL,
	}
}

// searchAttributes is the GetVersion change id of the search attributes:
// version 1 upserts them.
const searchAttributes = "search-attributes"

// caseView is what the search attributes show of a case.
type caseView struct {
	Kind, OrgID, Status, Assignee string
	DueAt                         time.Time // zero: none running
	Breached                      bool
}

// visibility returns a function that upserts a case's search attributes
// when they changed since the last upsert (none when disabled): called after
// every state change, it adds a command only when something shows.
func visibility(ctx workflow.Context, enabled bool) func(workflow.Context, caseView) {
	on := workflow.GetVersion(ctx, searchAttributes, workflow.DefaultVersion, 1) >= 1 && enabled
	var last *caseView
	return func(ctx workflow.Context, v caseView) {
		if !on || last != nil && *last == v {
			return
		}
		ups := []temporal.SearchAttributeUpdate{SAStatus.ValueSet(v.Status), SABreached.ValueSet(v.Breached)}
		if last == nil {
			ups = append(ups, SAOrgID.ValueSet(v.OrgID), SAKind.ValueSet(v.Kind))
		}
		if v.Assignee != "" {
			ups = append(ups, SAAssignee.ValueSet(v.Assignee))
		}
		if v.DueAt.IsZero() {
			ups = append(ups, SADueAt.ValueUnset())
		} else {
			ups = append(ups, SADueAt.ValueSet(v.DueAt))
		}
		if err := workflow.UpsertTypedSearchAttributes(ctx, ups...); err != nil {
			workflow.GetLogger(ctx).Warn("upsert search attributes", "error", err)
			return
		}
		last = &v
	}
}
