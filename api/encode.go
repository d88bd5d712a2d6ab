package api

import (
	"reflect"
	"strings"

	"github.com/huntdesk/huntdesk/models"
)

// jsonBody is what the API encodes for a handler's body: the contract says
// array for every list, so an empty one is [], never null or missing. The
// models mark an inquiry's and an application's lists omitempty because a
// list of cases does not load them; a single case always has them loaded
// (the store's detail queries), so here they are always present.
func jsonBody(v any) any {
	switch x := v.(type) {
	case *models.Inquiry:
		if x != nil {
			return inquiryJSON{Inquiry: x, Reports: orEmpty(x.Reports), Responses: orEmpty(x.Responses),
				Samples: orEmpty(x.Samples), Timeline: orEmpty(x.Timeline)}
		}
	case *models.Application:
		if x != nil {
			return applicationJSON{Application: x, Timeline: orEmpty(x.Timeline)}
		}
	}
	return withItems(v)
}

// The outer fields shadow the embedded model's omitempty ones.
type inquiryJSON struct {
	*models.Inquiry
	Reports   []models.InquiryReport   `json:"reports"`
	Responses []models.InquiryResponse `json:"responses"`
	Samples   []models.Sample          `json:"samples"`
	Timeline  []models.AuditEntry      `json:"timeline"`
}

type applicationJSON struct {
	*models.Application
	Timeline []models.AuditEntry `json:"timeline"`
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

var modelsPkg = reflect.TypeOf(models.Page{}).PkgPath()

// withItems returns a models.List whose Items is nil as one with no items.
func withItems(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Struct || rv.Type().PkgPath() != modelsPkg || !strings.HasPrefix(rv.Type().Name(), "List[") {
		return v
	}
	items := rv.FieldByName("Items")
	if items.Kind() != reflect.Slice || !items.IsNil() {
		return v
	}
	cp := reflect.New(rv.Type()).Elem()
	cp.Set(rv)
	cp.FieldByName("Items").Set(reflect.MakeSlice(items.Type(), 0, 0))
	return cp.Interface()
}
