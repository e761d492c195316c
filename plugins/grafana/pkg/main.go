// Command gpx_tidaldb is the backend of TidalDB's Grafana data source.
// Grafana starts it through hashicorp go-plugin; datasource.Manage serves
// QueryData, CheckHealth and CallResource over gRPC.
package main

import (
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/tidaldb/tidal/plugins/grafana/pkg/plugin"
)

// PluginID is the id in src/plugin.json.
const PluginID = "tidaldb-tidal-datasource"

func main() {
	if err := datasource.Manage(PluginID, plugin.NewDatasource, datasource.ManageOpts{}); err != nil {
		log.DefaultLogger.Error("serve plugin", "err", err.Error())
		os.Exit(1)
	}
}
