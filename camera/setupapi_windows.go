package camera

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows"
)

// The kernel-streaming interface classes of <ks.h>/<ksmedia.h>.
var interfaceGUIDs = map[InterfaceClass]string{
	ClassCapture: "{65E8773D-8F56-11D0-A3B9-00A0C9223196}", // KSCATEGORY_CAPTURE
	ClassVideo:   "{6994AD05-93EF-11D0-A3CC-00A0C9223196}", // KSCATEGORY_VIDEO
}

// setupAPI is the Enumerator of a real Windows machine: SetupDiGetClassDevs
// over the present devices with an interface of the class, and each one's
// instance ID and friendly name. No cgo: golang.org/x/sys/windows calls
// setupapi.dll.
type setupAPI struct{}

func (setupAPI) Devices(class InterfaceClass) ([]PnPDevice, error) {
	guid, err := windows.GUIDFromString(interfaceGUIDs[class])
	if err != nil {
		return nil, err
	}
	set, err := windows.SetupDiGetClassDevsEx(&guid, "", 0, windows.DIGCF_PRESENT|windows.DIGCF_DEVICEINTERFACE, 0, "")
	if err != nil {
		return nil, fmt.Errorf("SetupDiGetClassDevsEx: %w", err)
	}
	defer set.Close()
	var out []PnPDevice
	for i := 0; i < 4*MaxDevices; i++ {
		data, err := set.EnumDeviceInfo(i)
		if errors.Is(err, windows.ERROR_NO_MORE_ITEMS) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("SetupDiEnumDeviceInfo: %w", err)
		}
		id, err := set.DeviceInstanceID(data)
		if err != nil {
			continue
		}
		out = append(out, PnPDevice{InstanceID: id, Name: registryString(set, data, windows.SPDRP_FRIENDLYNAME, windows.SPDRP_DEVICEDESC)})
	}
	return out, nil
}

// registryString is the first of props the device has as a string.
func registryString(set windows.DevInfo, data *windows.DevInfoData, props ...windows.SPDRP) string {
	for _, p := range props {
		if v, err := set.DeviceRegistryProperty(data, p); err == nil {
			if s, ok := v.(string); ok && s != "" {
				return s
			}
		}
	}
	return ""
}
