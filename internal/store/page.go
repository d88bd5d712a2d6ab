package store

import (
	"encoding/base64"
	"encoding/json"

	"gorm.io/gorm"

	"github.com/huntdesk/huntdesk/models"
)

const (
	defaultLimit = 50
	maxLimit     = 200
)

// cursor is the position after the last item of a page. Callers only ever see
// it base64-encoded: it is opaque to them and may change shape.
type cursor struct {
	Key string `json:"k,omitempty"` // sort key for lists not ordered by id alone
	ID  string `json:"i"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	// A forged cursor is text from the caller like any other: one that
	// would carry a NUL or a control character to the database is refused.
	if err != nil || c.ID == "" || !models.OneLine(c.ID) || !models.OneLine(c.Key) {
		return c, &models.Error{Code: models.EINVALID, Message: "request is invalid", Fields: map[string]string{"cursor": "is not a cursor this server issued"}}
	}
	return c, nil
}

func limitOf(p models.Page) int {
	switch {
	case p.Limit <= 0:
		return defaultLimit
	case p.Limit > maxLimit:
		return maxLimit
	}
	return p.Limit
}

// pageByID lists newest first by id (ids are time-ordered).
func pageByID[T any](q *gorm.DB, p models.Page, idOf func(T) string) (models.List[T], error) {
	n := limitOf(p)
	if p.Cursor != "" {
		c, err := decodeCursor(p.Cursor)
		if err != nil {
			return models.List[T]{}, err
		}
		q = q.Where("id < ?", c.ID)
	}
	var items []T
	if err := q.Order("id DESC").Limit(n + 1).Find(&items).Error; err != nil {
		return models.List[T]{}, mapErr(err)
	}
	out := models.List[T]{Items: items}
	if len(items) > n {
		out.Items = items[:n]
		out.NextCursor = encodeCursor(cursor{ID: idOf(items[n-1])})
	}
	if out.Items == nil {
		out.Items = []T{}
	}
	return out, nil
}
