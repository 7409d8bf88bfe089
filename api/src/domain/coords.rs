//! Coordinate systems. WeChat's `wx.getLocation` (type gcj02) and Chinese maps give GCJ-02, the
//! obfuscated datum mandated in mainland China; GPS and GeoJSON use WGS-84. Qiaomen stores and
//! indexes WGS-84 only and converts GCJ-02 input on arrival.
use std::f64::consts::PI;

const A: f64 = 6_378_245.0; // Krasovsky 1940 semi-major axis, as the GCJ-02 formula uses
const EE: f64 = 0.006_693_421_622_965_943; // its first eccentricity squared

/// GCJ-02 is only applied inside (roughly) mainland China; elsewhere it equals WGS-84.
pub fn outside_china(lat: f64, lng: f64) -> bool {
    !(72.004..=137.8347).contains(&lng) || !(0.8293..=55.8271).contains(&lat)
}

fn offset(lat: f64, lng: f64) -> (f64, f64) {
    let (x, y) = (lng - 105.0, lat - 35.0);
    let mut d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    d_lat += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    d_lat += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    d_lat += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    let mut d_lng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    d_lng += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    d_lng += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    d_lng += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad_lat.sin().powi(2);
    let sqrt_magic = magic.sqrt();
    let d_lat = (d_lat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let d_lng = (d_lng * 180.0) / (A / sqrt_magic * rad_lat.cos() * PI);
    (d_lat, d_lng)
}

/// WGS-84 → GCJ-02 (the published forward formula).
pub fn wgs84_to_gcj02(lat: f64, lng: f64) -> (f64, f64) {
    if outside_china(lat, lng) {
        return (lat, lng);
    }
    let (d_lat, d_lng) = offset(lat, lng);
    (lat + d_lat, lng + d_lng)
}

/// GCJ-02 → WGS-84 by fixed-point iteration on the forward formula (error well under 1 cm).
pub fn gcj02_to_wgs84(lat: f64, lng: f64) -> (f64, f64) {
    if outside_china(lat, lng) {
        return (lat, lng);
    }
    let (mut w_lat, mut w_lng) = (lat, lng);
    for _ in 0..30 {
        let (g_lat, g_lng) = wgs84_to_gcj02(w_lat, w_lng);
        let (e_lat, e_lng) = (g_lat - lat, g_lng - lng);
        w_lat -= e_lat;
        w_lng -= e_lng;
        if e_lat.abs() < 1e-10 && e_lng.abs() < 1e-10 {
            break;
        }
    }
    (w_lat, w_lng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_in_beijing_is_exact_to_a_centimetre() {
        let (lat, lng) = (39.9087, 116.3975);
        let (g_lat, g_lng) = wgs84_to_gcj02(lat, lng);
        // The GCJ-02 shift in Beijing is a few hundred metres, mostly east-north-east.
        assert!((g_lng - lng) > 0.004 && (g_lng - lng) < 0.008, "{g_lng}");
        assert!((g_lat - lat) > 0.0005 && (g_lat - lat) < 0.003, "{g_lat}");
        let (w_lat, w_lng) = gcj02_to_wgs84(g_lat, g_lng);
        assert!((w_lat - lat).abs() < 1e-7 && (w_lng - lng).abs() < 1e-7);
    }

    #[test]
    fn outside_china_nothing_moves() {
        assert_eq!(gcj02_to_wgs84(51.5, -0.12), (51.5, -0.12));
    }
}

/// A point kept only to about `meters` (the retention job keeps 100 m): snapped to the centre of
/// its cell in a grid of that size, so the street's maps still show where things were.
pub fn coarsened(lat: f64, lng: f64, meters: f64) -> (f64, f64) {
    const METERS_PER_DEGREE: f64 = 111_320.0;
    let lat_step = meters / METERS_PER_DEGREE;
    let snapped_lat = ((lat / lat_step).floor() + 0.5) * lat_step;
    let lng_step = meters / (METERS_PER_DEGREE * snapped_lat.to_radians().cos().max(0.01));
    let snapped_lng = ((lng / lng_step).floor() + 0.5) * lng_step;
    (snapped_lat, snapped_lng)
}

#[cfg(test)]
mod coarsening {
    use super::coarsened;

    #[test]
    fn points_in_one_cell_become_one_point_within_the_cell() {
        let a = coarsened(39.908_81, 116.397_45, 100.0);
        let b = coarsened(39.908_82, 116.397_46, 100.0);
        assert_eq!(a, b);
        // Never more than half a cell's diagonal (about 71 m) from where it was.
        let dy = (a.0 - 39.908_81) * 111_320.0;
        let dx = (a.1 - 116.397_45) * 111_320.0 * 39.9f64.to_radians().cos();
        assert!((dx * dx + dy * dy).sqrt() <= 71.0, "{dx} {dy}");
    }
}
