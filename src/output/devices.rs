//! Output device listing for `loa devices`, with stable ALSA names and a recommendation.
//!
//! Names are the ALSA PCM names a technician writes after `alsa:` in the config, such as
//! `default` or `plughw:CARD=Headphones,DEV=0`. Card numbers change between boots and when USB
//! cards come and go, so names with a numeric card (`hw:CARD=0,DEV=0`) are rewritten with the
//! card's id from `/proc/asound` and duplicates dropped. [`recommend`] is pure: it prefers a
//! plug device (format conversion by ALSA) on an external or HAT card, then the analogue jack,
//! then HDMI, then `default`. Listing opens no device.

use std::collections::HashSet;

use rodio::cpal::traits::{DeviceTrait, HostTrait};

use super::OutputError;

/// One output device as `loa devices` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputDevice {
    /// The stable ALSA name to put after `alsa:` in the config.
    pub name: String,
    /// The human description ALSA gives, on one line.
    pub description: String,
    /// What kind of device the name refers to.
    pub kind: DeviceKind,
}

/// What an ALSA name refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// `default`: whatever the system's ALSA configuration routes to.
    Default,
    /// `hw:`: a card used directly, only in formats it supports natively.
    Hardware,
    /// `plughw:`: a card with ALSA converting rate, format and channels as needed.
    PlugHardware,
    /// Any other PCM (`sysdefault:`, `dmix:`, `pulse`, `null`, …).
    Virtual,
}

/// Which device to configure, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recommendation {
    /// The device name to use after `alsa:`, or none when there is no usable device.
    pub device: Option<String>,
    /// One sentence for the technician.
    pub reason: String,
}

/// Lists the output devices ALSA knows, with stable names, without opening any of them.
pub fn list_output_devices() -> Result<Vec<OutputDevice>, OutputError> {
    let host = rodio::cpal::default_host();
    let devices = host.output_devices().map_err(OutputError::AlsaList)?;
    let mut seen = HashSet::new();
    let mut listed = Vec::new();
    for device in devices {
        let Ok(id) = device.id() else { continue };
        let name = stable_name(id.id(), card_id_from_proc);
        if !seen.insert(name.clone()) {
            continue;
        }
        let description = device
            .description()
            .map(|d| {
                let mut text = d.name().to_owned();
                for line in d.extended() {
                    if line != d.name() {
                        text.push_str(" — ");
                        text.push_str(line);
                    }
                }
                text
            })
            .unwrap_or_default();
        listed.push(OutputDevice {
            kind: kind_of(&name),
            name,
            description,
        });
    }
    if !seen.contains("default") {
        listed.insert(
            0,
            OutputDevice {
                name: "default".to_owned(),
                description: "Default Audio Device".to_owned(),
                kind: DeviceKind::Default,
            },
        );
    }
    Ok(listed)
}

/// Picks the device a technician should configure.
pub fn recommend(devices: &[OutputDevice]) -> Recommendation {
    let best = devices
        .iter()
        .filter(|device| device.kind == DeviceKind::PlugHardware)
        .min_by_key(|device| card_rank(device));
    if let Some(device) = best {
        let reason = match card_rank(device) {
            0 => "an external or HAT sound card, through ALSA's plug layer so any format plays",
            1 => "the analogue audio jack, through ALSA's plug layer so any format plays",
            _ => "the only sound card found is HDMI; check that the amplifier is connected to it",
        };
        return Recommendation {
            device: Some(device.name.clone()),
            reason: reason.to_owned(),
        };
    }
    if devices
        .iter()
        .any(|device| device.kind == DeviceKind::Default)
    {
        return Recommendation {
            device: Some("default".to_owned()),
            reason: "no sound card is visible; the system's default ALSA device may still route \
                     to one"
                .to_owned(),
        };
    }
    Recommendation {
        device: None,
        reason: "no output device found; use output = \"null\" or \"wav:PATH\" until a sound \
                 card is connected"
            .to_owned(),
    }
}

/// Classifies an ALSA PCM name.
fn kind_of(name: &str) -> DeviceKind {
    if name == "default" {
        DeviceKind::Default
    } else if name.starts_with("hw:") {
        DeviceKind::Hardware
    } else if name.starts_with("plughw:") {
        DeviceKind::PlugHardware
    } else {
        DeviceKind::Virtual
    }
}

/// Ranks a card for the amplifier: 0 external or HAT, 1 analogue jack, 2 HDMI.
fn card_rank(device: &OutputDevice) -> u8 {
    let text = format!("{} {}", device.name, device.description).to_lowercase();
    if text.contains("hdmi") {
        2
    } else if text.contains("headphones") || text.contains("bcm2835") {
        1
    } else {
        0
    }
}

/// Rewrites `CARD=<number>` in an ALSA name to `CARD=<id>` using `card_id`.
fn stable_name(name: &str, card_id: impl Fn(u32) -> Option<String>) -> String {
    let Some(start) = name.find("CARD=") else {
        return name.to_owned();
    };
    let value_start = start + "CARD=".len();
    let value_end = name[value_start..]
        .find(',')
        .map_or(name.len(), |end| value_start + end);
    match name[value_start..value_end]
        .parse::<u32>()
        .ok()
        .and_then(card_id)
    {
        Some(id) => format!("{}{}{}", &name[..value_start], id, &name[value_end..]),
        None => name.to_owned(),
    }
}

/// Reads a card's stable id (e.g. `Headphones`) from `/proc/asound/cardN/id`.
fn card_id_from_proc(index: u32) -> Option<String> {
    let id = std::fs::read_to_string(format!("/proc/asound/card{index}/id")).ok()?;
    let id = id.trim();
    (!id.is_empty()).then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(name: &str, description: &str) -> OutputDevice {
        OutputDevice {
            name: name.to_owned(),
            description: description.to_owned(),
            kind: kind_of(name),
        }
    }

    #[test]
    fn numeric_cards_get_stable_names() {
        let ids = |index: u32| match index {
            0 => Some("Headphones".to_owned()),
            2 => Some("vc4hdmi0".to_owned()),
            _ => None,
        };
        let cases = [
            ("hw:CARD=0,DEV=0", "hw:CARD=Headphones,DEV=0"),
            ("plughw:CARD=2,DEV=1", "plughw:CARD=vc4hdmi0,DEV=1"),
            ("sysdefault:CARD=0", "sysdefault:CARD=Headphones"),
            ("hw:CARD=Headphones,DEV=0", "hw:CARD=Headphones,DEV=0"),
            ("hw:CARD=7,DEV=0", "hw:CARD=7,DEV=0"),
            ("default", "default"),
        ];
        for (raw, stable) in cases {
            assert_eq!(stable_name(raw, ids), stable, "{raw}");
        }
    }

    #[test]
    fn names_are_classified() {
        let cases = [
            ("default", DeviceKind::Default),
            ("hw:CARD=Headphones,DEV=0", DeviceKind::Hardware),
            ("plughw:CARD=Headphones,DEV=0", DeviceKind::PlugHardware),
            ("sysdefault:CARD=Headphones", DeviceKind::Virtual),
            ("null", DeviceKind::Virtual),
        ];
        for (name, kind) in cases {
            assert_eq!(kind_of(name), kind, "{name}");
        }
    }

    #[test]
    fn recommendation_prefers_external_then_jack_then_hdmi_then_default() {
        let hdmi = device(
            "plughw:CARD=vc4hdmi0,DEV=0",
            "vc4-hdmi-0, MAI PCM i2s-hifi-0",
        );
        let jack = device("plughw:CARD=Headphones,DEV=0", "bcm2835 Headphones");
        let usb = device("plughw:CARD=Device,DEV=0", "USB Audio Device, USB Audio");
        let raw_usb = device("hw:CARD=Device,DEV=0", "USB Audio Device, USB Audio");
        let default = device("default", "Default Audio Device");
        let null = device("null", "Discard all samples");
        let cases: [(Vec<&OutputDevice>, Option<&str>); 5] = [
            (
                vec![&default, &hdmi, &jack, &usb, &raw_usb],
                Some("plughw:CARD=Device,DEV=0"),
            ),
            (
                vec![&hdmi, &jack, &default],
                Some("plughw:CARD=Headphones,DEV=0"),
            ),
            (vec![&hdmi, &null], Some("plughw:CARD=vc4hdmi0,DEV=0")),
            (vec![&null, &default], Some("default")),
            (vec![&null], None),
        ];
        for (devices, expected) in cases {
            let devices: Vec<OutputDevice> = devices.into_iter().cloned().collect();
            let recommendation = recommend(&devices);
            assert_eq!(recommendation.device.as_deref(), expected, "{devices:?}");
            assert!(!recommendation.reason.is_empty());
        }
    }

    #[test]
    fn listing_works_without_a_sound_card() {
        let devices = list_output_devices().expect("alsa host is always available on linux");
        let names: HashSet<&str> = devices.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names.len(), devices.len(), "names are unique");
        assert!(
            devices.iter().all(|d| !d.name.contains("CARD=0,")),
            "numeric card names are rewritten: {devices:?}"
        );
    }
}
