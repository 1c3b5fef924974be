package embedded_test

import (
	"context"
	"testing"

	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/store/embedded"
	"github.com/coffer-vault/coffer/sync/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := embedded.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
