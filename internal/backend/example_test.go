package backend_test

import (
	"context"
	"fmt"

	"github.com/asrkit/asrkit/internal/backend"
)

func ExampleNew() {
	// --backend flag, then train.backend from the config, then $GOMLX_BACKEND, then auto.
	spec, source := backend.Resolve("go", "")
	b, info, err := backend.New(context.Background(), spec)
	if err != nil {
		panic(err)
	}
	defer b.Finalize()
	fmt.Println(spec, "from", source+":", info.Name, info.Config, len(info.Devices), "device")
	// Output: go from flag: go ops_sequential 1 device
}
