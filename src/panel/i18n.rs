//! The panel's words in Vietnamese (default) and English, and how a request picks its
//! language: `?lang=` first, then the `loa_lang` cookie. Keys are short English phrases;
//! a missing key shows itself, so a test can find it.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Tiếng Việt.
    Vi,
    /// English.
    En,
}

impl Lang {
    /// The `lang` attribute value.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// The request's language: `?lang=` wins, then the cookie, then Vietnamese.
    pub fn of(query: Option<&str>, headers: &HeaderMap) -> Lang {
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == "loa_lang")
            .map(|(_, v)| v.to_owned());
        match query.or(cookie.as_deref()) {
            Some("en") => Lang::En,
            _ => Lang::Vi,
        }
    }

    /// A log outcome code (`played`, …) in this language.
    pub fn outcome(self, code: &str) -> &'static str {
        match code {
            "played" => self.t("outcome played"),
            "partial" => self.t("outcome partial"),
            "interrupted" => self.t("outcome interrupted"),
            "skipped" => self.t("outcome skipped"),
            "missed" => self.t("outcome missed"),
            _ => self.t("outcome failed"),
        }
    }

    /// A priority in this language.
    pub fn priority(self, p: crate::model::Priority) -> &'static str {
        match p {
            crate::model::Priority::Normal => self.t("normal"),
            crate::model::Priority::Priority => self.t("priority-high"),
            crate::model::Priority::Emergency => self.t("emergency"),
        }
    }

    /// The word for `key` in this language.
    pub fn t(self, key: &'static str) -> &'static str {
        WORDS
            .iter()
            .find(|(k, _, _)| *k == key)
            .map_or(key, |(_, vi, en)| match self {
                Lang::Vi => vi,
                Lang::En => en,
            })
    }
}

/// The `lang=` value of a query string, if it is one we speak.
fn query_lang(query: Option<&str>) -> Option<&'static str> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| match v {
            "vi" => Some("vi"),
            "en" => Some("en"),
            _ => None,
        })
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Lang, Self::Rejection> {
        Ok(Lang::of(query_lang(parts.uri.query()), &parts.headers))
    }
}

/// Middleware: a `?lang=` choice is remembered in the `loa_lang` cookie.
pub async fn remember(req: Request, next: Next) -> Response {
    let chosen = query_lang(req.uri().query());
    let mut response = next.run(req).await;
    if let Some(code) = chosen {
        let cookie = format!("loa_lang={code}; Path=/; SameSite=Strict; Max-Age=31536000");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// (key, Vietnamese, English).
const WORDS: &[(&str, &str, &str)] = &[
    ("dashboard", "Tổng quan", "Dashboard"),
    ("library", "Thư viện", "Library"),
    ("playlists", "Danh sách phát", "Playlists"),
    ("programmes", "Chương trình", "Programmes"),
    ("campaigns", "Chiến dịch", "Campaigns"),
    ("schedule", "Lịch phát", "Schedule"),
    ("broadcast", "Phát thanh", "Broadcast"),
    ("log", "Nhật ký", "Log"),
    ("logout", "Đăng xuất", "Log out"),
    ("login", "Đăng nhập", "Log in"),
    ("user", "Tên đăng nhập", "User name"),
    ("password", "Mật khẩu", "Password"),
    ("password again", "Nhập lại mật khẩu", "Password again"),
    ("switch", "English", "Tiếng Việt"),
    ("switch code", "en", "vi"),
    ("on air", "Đang phát", "On air"),
    (
        "nothing on air",
        "Không có chương trình nào đang phát",
        "Nothing on air",
    ),
    ("relay", "Rơ-le âm ly", "Amplifier relay"),
    ("on", "Bật", "On"),
    ("off", "Tắt", "Off"),
    ("clock", "Đồng hồ", "Clock"),
    ("synced", "đã đồng bộ", "synchronised"),
    (
        "not synced",
        "CHƯA đồng bộ — lịch phát đang chờ",
        "NOT synchronised — the schedule is waiting",
    ),
    ("output", "Thiết bị âm thanh", "Output device"),
    ("disk", "Dung lượng trống", "Disk free"),
    ("today", "Còn lại hôm nay", "Remaining today"),
    (
        "upcoming",
        "Sắp phát (7 ngày tới)",
        "Coming up (next 7 days)",
    ),
    (
        "recent",
        "Nhật ký phát thanh gần đây",
        "Recent broadcast log",
    ),
    ("alerts", "Cảnh báo", "Alerts"),
    ("skipped", "bỏ qua", "skipped"),
    ("breaks", "phát dù vi phạm", "airs breaking"),
    ("none", "Không có", "None"),
    ("problem", "Sự cố", "Problem"),
    ("upload", "Tải lên tệp âm thanh", "Upload audio files"),
    (
        "drop here",
        "Kéo thả tệp vào đây, hoặc bấm để chọn (có thể chọn nhiều tệp)",
        "Drop files here, or tap to choose (several at once)",
    ),
    ("title", "Tiêu đề", "Title"),
    ("duration", "Thời lượng", "Duration"),
    ("loudness", "Độ lớn", "Loudness"),
    ("file", "Tệp gốc", "Original file"),
    ("preview", "Nghe thử", "Preview"),
    ("name", "Tên", "Name"),
    ("create", "Tạo", "Create"),
    ("save", "Lưu", "Save"),
    ("delete", "Xoá", "Delete"),
    ("edit", "Sửa", "Edit"),
    ("items", "mục", "items"),
    ("version", "phiên bản", "version"),
    ("move up", "Lên", "Up"),
    ("move down", "Xuống", "Down"),
    ("remove", "Bỏ", "Remove"),
    ("add clip", "Thêm bản tin", "Add clip"),
    ("add", "Thêm", "Add"),
    (
        "drag hint",
        "Giữ biểu tượng ⠿ rồi kéo lên hoặc xuống để sắp xếp, hoặc dùng nút ↑ ↓. Thay đổi được lưu ngay.",
        "Hold the ⠿ grip and drag up or down to reorder, or use the ↑ ↓ buttons. Changes are saved at once.",
    ),
    ("new playlist", "Danh sách phát mới", "New playlist"),
    ("new programme", "Chương trình mới", "New programme"),
    ("new campaign", "Chiến dịch mới", "New campaign"),
    ("when", "Thời gian phát", "When"),
    ("presets", "Mẫu có sẵn", "Presets"),
    (
        "preset daily",
        "Hằng ngày 06:00 và 17:00",
        "Every day at 06:00 and 17:00",
    ),
    (
        "preset weekdays",
        "Thứ Hai–Thứ Sáu 06:30",
        "Mon–Fri at 06:30",
    ),
    ("preset morning", "Hằng ngày 05:30", "Every day at 05:30"),
    ("weekdays", "Các ngày trong tuần", "Days of the week"),
    (
        "times",
        "Giờ phát (cách nhau bởi dấu phẩy, ví dụ 06:00, 17:00)",
        "Times (comma separated, e.g. 06:00, 17:00)",
    ),
    ("cron", "Biểu thức cron", "Cron expression"),
    ("next ten", "10 lần phát tiếp theo", "Next ten times"),
    ("playlist", "Danh sách phát", "Playlist"),
    ("campaign", "Chiến dịch", "Campaign"),
    ("priority", "Mức ưu tiên", "Priority"),
    ("normal", "Bình thường", "Normal"),
    ("priority-high", "Ưu tiên", "Priority"),
    ("emergency", "Khẩn cấp", "Emergency"),
    ("enabled", "Đang bật", "Enabled"),
    ("approved", "Đã duyệt", "Approved"),
    ("not approved", "Chờ duyệt", "Awaiting approval"),
    ("approve", "Duyệt", "Approve"),
    ("needs reapproval", "Cần duyệt lại", "Needs re-approval"),
    (
        "reapproval why",
        "Nội dung đã thay đổi sau khi được duyệt; chương trình không phát cho đến khi được duyệt lại",
        "What it airs changed after approval; it does not air until approved again",
    ),
    ("what airs", "Nội dung sẽ phát", "What airs"),
    ("total", "Tổng thời lượng", "Total"),
    (
        "content changed",
        "Danh sách phát vừa thay đổi trong lúc bạn xem; hãy xem lại nội dung rồi duyệt",
        "The playlist changed while you looked; look at its clips again, then approve",
    ),
    ("not saved", "Chưa lưu", "Not saved"),
    ("theme", "Chủ đề", "Theme"),
    ("start", "Từ ngày", "From"),
    ("end", "Đến ngày", "To"),
    ("report", "Báo cáo", "Report"),
    ("play now", "Phát ngay", "Play now"),
    (
        "emergency broadcast",
        "Phát khẩn cấp",
        "Emergency broadcast",
    ),
    (
        "confirm emergency",
        "Tôi xác nhận phát khẩn cấp: cắt ngang mọi chương trình và bỏ qua giờ yên tĩnh",
        "I confirm the emergency broadcast: it cuts in on everything and ignores quiet hours",
    ),
    ("stop", "Dừng phát", "Stop"),
    ("sent", "Đã gửi lệnh", "Command sent"),
    (
        "sent at",
        "Đã nhận: sẽ phát vào giờ đã hẹn",
        "Accepted: it plays at the time given",
    ),
    ("stopped", "Đã dừng phát", "Stopped"),
    (
        "play at",
        "Giờ phát (để trống: phát ngay)",
        "Time to play (empty: now)",
    ),
    ("refused", "Không phát được", "Cannot air"),
    (
        "confirm emergency first",
        "Hãy đánh dấu ô xác nhận phát khẩn cấp.",
        "Tick the box confirming the emergency broadcast.",
    ),
    (
        "choose a playlist",
        "Hãy chọn danh sách phát.",
        "Choose a playlist.",
    ),
    (
        "time passed form",
        "Giờ phát này đã qua. Để trống ô giờ phát để phát ngay.",
        "That time has passed. Leave the time empty to play now.",
    ),
    (
        "bad time",
        "Giờ phát không hợp lệ.",
        "The time to play is not valid.",
    ),
    ("from", "Từ", "From"),
    ("to", "Đến", "To"),
    ("filter", "Lọc", "Filter"),
    ("csv", "Tải CSV", "Download CSV"),
    ("all", "Tất cả", "All"),
    ("outcome", "Kết quả", "Outcome"),
    ("scheduled", "Giờ dự kiến", "Scheduled"),
    ("started", "Bắt đầu", "Started"),
    ("clips", "Bản tin", "Clips"),
    ("times aired", "Số lần phát", "Times aired"),
    ("minutes aired", "Số phút phát", "Minutes aired"),
    ("first aired", "Lần đầu", "First aired"),
    ("last aired", "Lần cuối", "Last aired"),
    ("per day", "Theo ngày", "Per day"),
    ("broadcasts", "Lượt phát", "Broadcasts"),
    ("minutes", "Số phút", "Minutes"),
    ("not aired", "Không phát", "Not aired"),
    ("week", "Tuần", "Week"),
    ("previous week", "Tuần trước", "Previous week"),
    ("next week", "Tuần sau", "Next week"),
    (
        "setup title",
        "Tạo tài khoản quản trị đầu tiên",
        "Create the first administrator",
    ),
    (
        "setup remote",
        "Chưa có tài khoản nào. Hãy tạo tài khoản quản trị đầu tiên ngay trên máy (http://127.0.0.1) hoặc bằng lệnh: loa passwd TÊN",
        "No account exists yet. Create the first administrator on the box itself (http://127.0.0.1) or with the command: loa passwd NAME",
    ),
    (
        "passwords differ",
        "Hai mật khẩu không khớp",
        "The two passwords differ",
    ),
    (
        "wrong login",
        "Sai tên đăng nhập hoặc mật khẩu",
        "Wrong user name or password",
    ),
    (
        "rate limited",
        "Đăng nhập sai quá nhiều lần; hãy thử lại sau 15 phút",
        "Too many failed logins; try again in 15 minutes",
    ),
    (
        "stale",
        "Danh sách này vừa được người khác thay đổi. Thứ tự hiện tại đã được tải lại; hãy kiểm tra rồi sửa lại.",
        "Someone else changed this playlist. The current order has been loaded; check it and make your change again.",
    ),
    ("empty", "Trống", "Empty"),
    ("role", "Vai trò", "Role"),
    ("repeat", "Số lần phát lặp lại", "Plays per occurrence"),
    (
        "chime",
        "Nhạc hiệu mở đầu và kết thúc",
        "Opening and closing chime",
    ),
    ("outcome on air", "đang phát", "on air"),
    ("outcome played", "đã phát", "played"),
    ("outcome partial", "phát một phần", "partly played"),
    ("outcome interrupted", "bị ngắt", "interrupted"),
    ("outcome skipped", "bỏ qua", "skipped"),
    ("outcome missed", "bị lỡ", "missed"),
    ("outcome failed", "lỗi", "failed"),
    // Broadcasts held for approval (pending_api).
    (
        "pending broadcasts",
        "Lượt phát chờ duyệt",
        "Broadcasts waiting for approval",
    ),
    ("urgent", "KHẨN", "URGENT"),
    ("waiting for approval", "chờ duyệt", "waiting for approval"),
    (
        "when approved",
        "ngay khi được duyệt",
        "as soon as approved",
    ),
    ("time passed", "đã quá giờ", "time has passed"),
    ("asked by", "người yêu cầu:", "asked by"),
    ("reject", "Từ chối", "Reject"),
    (
        "held for approval",
        "Đã ghi nhận yêu cầu; lượt phát sẽ lên sóng khi người duyệt đồng ý",
        "Request recorded; it airs when an approver approves it",
    ),
    (
        "request rejected",
        "Đã từ chối yêu cầu phát",
        "Broadcast request rejected",
    ),
    (
        "your broadcasts wait",
        "Đài yêu cầu duyệt: lượt phát bạn yêu cầu (kể cả khẩn cấp) chỉ lên sóng khi người duyệt đồng ý",
        "This station requires approval: broadcasts you ask for (emergencies too) air only when an approver approves them",
    ),
    (
        "request expired",
        "Giờ phát của yêu cầu này đã qua; không phát. Hãy yêu cầu lại với giờ mới",
        "This request's time has passed; it was not aired. Ask again with a new time",
    ),
    ("day0", "CN", "Sun"),
    ("day1", "T2", "Mon"),
    ("day2", "T3", "Tue"),
    ("day3", "T4", "Wed"),
    ("day4", "T5", "Thu"),
    ("day5", "T6", "Fri"),
    ("day6", "T7", "Sat"),
    // ---- Dashboard progress and health alerts, programme rule warnings, users page. ----
    ("clip n of m", "Bản tin", "Clip"),
    ("chime playing", "Đang phát nhạc hiệu", "Chime playing"),
    ("manual broadcast", "Phát thủ công", "Manual broadcast"),
    (
        "system problems",
        "Tình trạng hệ thống cần xử lý",
        "System problems",
    ),
    ("how to fix", "Cách khắc phục", "How to fix"),
    (
        "check config",
        "Tệp cấu hình có vấn đề",
        "The config file has a problem",
    ),
    (
        "check config fix",
        "Chạy loa check để xem dòng sai rồi sửa tệp cấu hình",
        "Run loa check to see the wrong line and fix the config file",
    ),
    (
        "check database",
        "Cơ sở dữ liệu bị lỗi",
        "The database is damaged",
    ),
    (
        "check database fix",
        "Dừng loa, khôi phục bản sao lưu gần nhất bằng loa import, rồi khởi động lại",
        "Stop loa, restore the last backup with loa import, start loa",
    ),
    (
        "check media",
        "Thiếu tệp âm thanh của một số bản tin",
        "Some clips' audio files are missing",
    ),
    (
        "check media fix",
        "Khôi phục thư mục media từ bản sao lưu (loa import) hoặc tải các bản tin lên lại",
        "Restore the media directory from a backup (loa import) or upload the clips again",
    ),
    (
        "check output",
        "Không có thiết bị âm thanh: loa không phát ra tiếng",
        "No output device: nothing is heard",
    ),
    (
        "check output fix",
        "Cắm hoặc bật card âm thanh, chạy loa devices rồi đặt [audio] output theo tên được liệt kê",
        "Plug in or enable the sound card, run loa devices and set [audio] output to a listed name",
    ),
    (
        "check relay",
        "Rơ-le âm ly không điều khiển được",
        "The amplifier relay cannot be switched",
    ),
    (
        "check relay fix",
        "Kiểm tra mục [amp] trong cấu hình (chân GPIO, người dùng loa trong nhóm gpio)",
        "Check [amp] in the config (GPIO line, the loa user in group gpio)",
    ),
    (
        "check clock",
        "Đồng hồ chưa đồng bộ: các chương trình theo lịch đang chờ",
        "Clock not synchronised: scheduled broadcasts are waiting",
    ),
    (
        "check clock fix",
        "Bật NTP (sudo timedatectl set-ntp true) và kiểm tra kết nối mạng",
        "Enable NTP (sudo timedatectl set-ntp true) and check network access",
    ),
    ("check disk", "Thẻ nhớ sắp đầy", "The disk is nearly full"),
    (
        "check disk full",
        "Thẻ nhớ đã đầy: không nhận tải lên bản tin mới",
        "The disk is full: uploads are refused",
    ),
    (
        "check disk fix",
        "Xoá các bản tin không dùng nữa, bản sao lưu hoặc nhật ký cũ",
        "Delete unused clips, old backups or logs",
    ),
    (
        "check last_broadcast",
        "Chương trình theo lịch gần nhất không phát được",
        "The last scheduled broadcast did not go out",
    ),
    (
        "check last_broadcast fix",
        "Giữ máy luôn có điện và đồng hồ đồng bộ; xem nhật ký bằng journalctl -u loa",
        "Keep the box powered and its clock synchronised; see journalctl -u loa",
    ),
    (
        "check other",
        "Kiểm tra hệ thống báo lỗi",
        "A health check failed",
    ),
    (
        "check other fix",
        "Xem nhật ký bằng journalctl -u loa",
        "See the daemon's log (journalctl -u loa)",
    ),
    ("would air", "sẽ phát", "airs"),
    ("would skip", "sẽ bị bỏ qua", "skipped"),
    ("would break", "phát dù vi phạm", "airs breaking"),
    (
        "skip warning",
        "Một số lần phát ở trên sẽ bị bỏ qua theo quy định của đài. Bấm nút lần nữa để vẫn lưu.",
        "Some of the times above would be skipped by the station's rules. Press the button again to save anyway.",
    ),
    ("save anyway", "Vẫn lưu", "Save anyway"),
    ("users", "Người dùng", "Users"),
    ("new user", "Thêm người dùng", "New user"),
    ("new password", "Mật khẩu mới", "New password"),
    ("change role", "Đổi vai trò", "Change role"),
    ("reset password", "Đặt lại mật khẩu", "Reset password"),
    ("remove user", "Xoá người dùng", "Remove user"),
    ("created", "Ngày tạo", "Created"),
    ("role viewer", "Chỉ xem", "Viewer"),
    ("role editor", "Biên tập", "Editor"),
    ("role approver", "Duyệt nội dung", "Approver"),
    ("role admin", "Quản trị", "Administrator"),
    ("you", "bạn", "you"),
    ("saved", "Đã lưu", "Saved"),
    (
        "user exists",
        "Tên đăng nhập này đã có; hãy dùng Đặt lại mật khẩu",
        "This user name exists; use Reset password",
    ),
    (
        "admins only",
        "Trang này chỉ dành cho quản trị viên.",
        "This page is for administrators only.",
    ),
    ("forbidden", "Không có quyền", "Forbidden"),
    // ---- Library rename / delete, the week's date picker and past days, the log. ----
    ("rename", "Đổi tên", "Rename"),
    (
        "title empty",
        "Hãy nhập tên mới cho bản tin",
        "Type the new title",
    ),
    (
        "cannot delete clip",
        "Không xoá được bản tin",
        "Cannot delete the clip",
    ),
    (
        "is in playlists",
        "vì nó đang nằm trong danh sách phát",
        "because it is in the playlists",
    ),
    (
        "take it out first",
        "Hãy bỏ bản tin khỏi các danh sách đó trước, rồi xoá lại",
        "Take it out of those playlists first, then delete it",
    ),
    ("choose date", "Chọn ngày", "Choose a date"),
    ("show", "Xem", "Show"),
    ("this week", "Tuần này", "This week"),
    (
        "week legend",
        "Ngày đã qua lấy theo nhật ký: đã phát, bị lỡ, lỗi, bỏ qua và lý do. Phần còn lại theo lịch: sẽ phát, hoặc sẽ bị bỏ qua và lý do.",
        "Past days come from the log: aired, missed, failed, skipped and why. What is ahead comes from the schedule: airs, or will be skipped and why.",
    ),
    ("nothing this day", "Không có lượt phát", "Nothing"),
    (
        "technical detail",
        "Chi tiết cho kỹ thuật viên",
        "Technical detail",
    ),
    (
        "dates swapped",
        "Ngày «Từ» đứng sau ngày «Đến»; đã đổi chỗ hai ngày.",
        "The From date was after the To date; the two were swapped.",
    ),
    ("log rows", "lượt trong nhật ký", "log rows"),
    ("origin", "Nguồn", "Source"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_both_languages_filled() {
        for (i, (k, vi, en)) in WORDS.iter().enumerate() {
            assert!(!vi.is_empty() && !en.is_empty(), "{k}");
            assert!(
                WORDS[..i].iter().all(|(k2, _, _)| k2 != k),
                "duplicate key {k}"
            );
        }
        assert_eq!(Lang::Vi.t("on air"), "Đang phát");
        assert_eq!(Lang::En.t("on air"), "On air");
    }

    #[test]
    fn query_beats_cookie_and_vietnamese_is_default() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::of(None, &h), Lang::Vi);
        h.insert(header::COOKIE, "a=b; loa_lang=en".parse().unwrap());
        assert_eq!(Lang::of(None, &h), Lang::En);
        assert_eq!(Lang::of(Some("vi"), &h), Lang::Vi);
    }
}
