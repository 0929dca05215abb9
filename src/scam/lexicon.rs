//! The weighted phrase tables the text signals are matched with. Data only; the matching is in `signals`.
//!
//! Phrases are written folded (no accents, `đ` → `d`, lowercase, single spaces) and match whole words of
//! [`crate::scam::words::Words`], so "Việc nhẹ, lương cao!", "viec nhe luong cao" and "v!ec nhe luong
//! cao" all hit. Weights are points toward caution (3) and danger (6):
//! - 4: a phrase scammers use and legitimate senders do not ("việc nhẹ lương cao", "tài khoản an toàn");
//! - 3: typical of one scenario, rare elsewhere;
//! - 2: common in that scenario but also in legitimate messages: it needs company to warn;
//! - 1: context only.
//!
//! A scenario counts once, at its heaviest phrase, plus one point for a second distinct phrase. Everyday
//! words that legitimate notices also use ("công an", "thuế", "ngân hàng", "ngày") are only ever part of a
//! longer phrase.

use super::scenario::Scenario;

/// Phrases of each scenario with their weight.
#[rustfmt::skip]
pub(crate) const SCENARIO_PHRASES: &[(Scenario, &[(&str, u8)])] = &[
    (Scenario::PoliceImpersonation, &[
        ("chua ma tuy", 4), ("tuong trinh", 3), ("ma tuy", 2), ("can bo xac minh", 3), ("goi video qua zalo", 4),
        ("an ninh mang", 2), ("don to cao", 3), ("giai trinh", 3), ("bam phim", 3), ("danh sach nghi van", 4), ("nghi van", 2), ("phat tan tin nhan", 3), ("moi len lam viec", 3), ("phong toa", 3), ("giai toa", 3), ("co quan chuc nang", 2), ("tai khoan tam giu", 4),
        ("duong day rua tien", 4), ("tai khoan an toan", 4), ("chung minh trong sach", 4), ("lenh bat tam giam", 4),
        ("lenh truy na", 4), ("giay trieu tap", 4), ("phong toa tai khoan", 4), ("lien quan den vu an", 4),
        ("lien quan vu an", 4), ("lien quan den duong day", 4), ("lien quan duong day", 4), ("dieu tra vien", 3),
        ("vien kiem sat", 3), ("cong an thong bao", 3), ("ho so vi pham", 3), ("ma tuy xuyen quoc gia", 4),
        ("rua tien", 3), ("trieu tap", 3), ("toa an nhan dan", 3), ("can bo cong an", 3), ("phong canh sat", 3),
        ("canh sat dieu tra", 3), ("lam viec voi co quan cong an", 3), ("khoi to", 3), ("bi dieu tra", 3),
        ("giu bi mat", 2), ("khong duoc noi voi ai", 4), ("xac minh nhan than", 2), ("vu an", 2), ("lenh bat", 3),
        ("gia danh cong an", 3), ("cong an phuong", 2), ("cong an quan", 2), ("bo cong an", 2),
    ]),
    (Scenario::TaxImpersonation, &[
        ("truy thu", 3), ("cam xuat canh", 4), ("xac minh thu nhap", 3), ("khai lai", 2), ("ma so thue moi", 3), ("can bo thue", 3), ("se bi phat", 2), ("tam hoan xuat canh", 4),
        ("hoan thue thu nhap", 4), ("hoan tien thue", 4), ("no thue qua han", 3), ("cuong che thue", 3),
        ("hoan thue", 3), ("no tien thue", 3), ("cuc thue", 2), ("chi cuc thue", 2), ("co quan thue", 2),
        ("quyet toan thue", 2), ("thue dien tu", 2), ("ma so thue ca nhan", 1),
    ]),
    (Scenario::UtilityImpersonation, &[
        ("cong to dien", 2), ("dung dien vuot dinh muc", 3), ("tiep tuc cap dien", 3), ("doi chieu thong tin", 2), ("thay cong to", 3),
        ("se ngung cap dien", 3), ("chua thanh toan", 1),
        ("hoan tien dien", 4), ("no tien dien", 3), ("tien dien qua han", 3), ("se bi cat dien", 3),
        ("thanh toan tien dien ngay", 3), ("cat dien trong hom nay", 4), ("no tien nuoc", 3), ("se bi cat nuoc", 3),
        ("cat dien", 1), ("cat nuoc", 1), ("dien luc", 1), ("tien dien", 1), ("ngung cap dien", 1),
    ]),
    (Scenario::BankImpersonation, &[
        ("nhan vien ho tro cua ngan hang", 3), ("ho tro cua ngan hang", 2), ("can bo sung", 1), ("goi lai cho em", 2), ("2 mat the", 4), ("hai mat the", 4), ("anh 2 mat", 3), ("tang gap 3", 2), ("han muc the tin dung", 2), ("nghi ngo gian lan", 3), ("bi tam khoa", 3),
        ("vo hieu hoa vinh vien", 4), ("bi vo hieu hoa", 3), ("vo hieu hoa", 2), ("vi pham chinh sach", 3), ("xac minh danh tinh", 3), ("xac thuc khuon mat", 3), ("chup 2 mat cccd", 4), ("chup hai mat cccd", 4), ("anh chan dung", 2), ("bat camera", 3), ("goi video", 2), ("dang nhap lai", 2), ("phien dang nhap", 2), ("thiet bi la", 3), ("dang nhap tai thiet bi", 3), ("giao dich bat thuong", 2), ("khong phai quy khach thuc hien", 2), ("huy giao dich", 2), ("mo the tin dung", 2), ("khong can chung minh thu nhap", 4), ("han muc the", 2), ("diem tich luy", 2), ("quy doi", 2), ("doi qua", 2), ("se bi xoa", 3), ("bi dong bang", 3), ("doi sang tien mat", 3), ("diem cua ban", 1),
        ("tai khoan cua quy khach se bi khoa", 4), ("tai khoan se bi khoa", 4), ("tai khoan bi tam khoa", 4),
        ("tam khoa tai khoan", 4), ("tai khoan cua ban bi khoa", 4), ("nang han muc the", 4),
        ("nang han muc tin dung", 4), ("diem thuong sap het han", 4), ("quy doi diem thuong", 4),
        ("cap nhat sinh trac hoc", 3), ("xac thuc sinh trac hoc", 3), ("khoa tai khoan", 3), ("tai khoan bi khoa", 3),
        ("xac minh tai khoan", 3), ("xac thuc tai khoan", 3), ("cap nhat thong tin tai khoan", 3), ("nang han muc", 3),
        ("nang cap the", 3), ("mo khoa tai khoan", 3), ("tri an khach hang", 3), ("tai khoan bi han che", 3),
        ("the cua quy khach", 2), ("tai khoan cua quy khach", 1), ("diem thuong", 2), ("nhan vien ngan hang", 2),
        ("sinh trac hoc", 1),
    ]),
    (Scenario::IdVerification, &[
        ("chuan hoa", 2), ("khoa 2 chieu", 4), ("khoa hai chieu", 4), ("chua chinh chu", 3), ("doi soat thong tin", 3), ("ngat dich vu", 3), ("nhan phim", 3), ("cap nhat thong tin thue bao", 3), ("khoa 1 chieu", 3),
        ("thu hoi vinh vien", 3), ("thue bao se bi thu hoi", 4),
        ("dinh danh muc 2", 3), ("chuan hoa thong tin thue bao", 3), ("chuan hoa thue bao", 3), ("thue bao se bi khoa", 4),
        ("sim se bi khoa", 4), ("se bi khoa sim", 4), ("khoa sim", 3), ("thu hoi sim", 3), ("cap nhat cccd", 3),
        ("tich hop cccd", 3), ("xac thuc thue bao", 3), ("kich hoat dinh danh", 2), ("vneid", 2), ("dinh danh", 2),
        ("cap nhat can cuoc", 2), ("chuan hoa thong tin", 2), ("dinh danh dien tu", 2),
        ("mat song", 3), ("nang cap sim", 2), ("nang cap 5g", 2), ("doi sim 5g", 2),
    ]),
    (Scenario::EasyJob, &[
        ("go chu", 3), ("viet bai tai nha", 3), ("phi dang ky tai khoan", 4), ("nhap lieu", 2), ("dong goi tai nha", 3), ("xau hat", 3), ("dat coc nguyen lieu", 4), ("danh gia san pham", 3), ("nop tien ung truoc", 4), ("khong yeu cau kinh nghiem", 2), ("tuyen gap", 2), ("phong van qua telegram", 4), ("nhan lai ngay", 2), ("lam tai nha", 3),
        ("chup man hinh", 2), ("danh gia 5 sao", 3), ("rut tien ngay", 2), ("nap toi thieu", 3), ("mo khoa cap vip", 4), ("nhiem vu", 2), ("theo doi kenh", 2), ("kiem tien", 2), ("nhan hoa hong", 3),
        ("viec nhe luong cao", 4), ("lam nhiem vu", 4), ("nhan nhiem vu", 4), ("xem video kiem tien", 4),
        ("tha tim", 4), ("like video", 4), ("xem quang cao nhan tien", 4), ("hoan tien goc", 4), ("don ao", 4),
        ("tuyen ctv", 3), ("tuyen cong tac vien", 3), ("cong tac vien online", 3), ("kiem tien online", 3),
        ("lam tai nha", 3), ("thu nhap hap dan", 3), ("chot don", 3), ("nhap lieu tai nha", 3), ("hoa hong cao", 3),
        ("luong theo ngay", 3), ("nhan luong ngay", 3), ("moi ngay kiem", 3), ("thu nhap tu", 2), ("hoa hong", 2),
        ("khong can kinh nghiem", 2), ("ung luong", 2), ("ctv", 2), ("viec lam them", 2), ("thoi gian tu do", 2),
        ("lam ctv", 2), ("kiem them thu nhap", 3), ("chi can dien thoai", 3),
        ("tuyen lao dong", 1), ("xuat khau lao dong", 1), ("xkld", 1), ("hoc bong toan phan", 1), ("duyet hoc bong", 1),
    ]),
    (Scenario::OtpRequest, &[
        ("ma cvv", 4), ("so cvv", 4), ("so the", 2), ("mat khau", 2), ("cung cap so the", 4), ("gui ma", 2),
        ("doc giup", 3), ("ma gom 6 so", 3), ("ma gom", 2), ("huy goi cuoc", 2),
        ("doc ma otp", 4), ("gui ma otp", 4), ("cung cap ma otp", 4), ("doc ma xac nhan", 4), ("gui lai ma", 3),
        ("doc giup ma", 4), ("ma otp vua gui", 3), ("xin ma otp", 4), ("gui otp", 4), ("doc otp", 4),
        ("cung cap otp", 4), ("gui ma xac nhan", 3), ("cung cap ma xac nhan", 4), ("doc ma", 2),
        ("ma vua gui ve", 4), ("ma vua gui toi", 4), ("ma 6 so vua", 4), ("gui minh cai ma", 4), ("gui lai minh ma", 4),
        ("vua nhan ve may", 3), ("vua gui ve may", 3), ("vua nhan ve dien thoai", 3),
    ]),
    (Scenario::BookingDeposit, &[
        ("chuyen coc", 2), ("dat coc", 1), ("coc truoc", 2), ("thanh toan truoc", 1), ("giu phong", 1),
        ("ve may bay gia re", 3),
    ]),
    (Scenario::Prize, &[
        ("trung xe", 4), ("trung giai nhat", 4), ("giai nhat", 2), ("1 trong 100", 2), ("nguoi may man", 3),
        ("ban trung", 3), ("ban da trung", 4), ("duoc chon nhan", 3), ("nhan li xi", 3), ("li xi", 2), ("chuc mung ban", 2), ("tra loi nhan", 3), ("nhan voucher", 2),
        ("phi nhan thuong", 4), ("trung thuong xe", 4), ("nhan giai thuong", 3), ("da trung thuong", 4),
        ("chuc mung quy khach da trung", 4), ("trung giai dac biet", 4), ("nop phi nhan qua", 4), ("phi nhan qua", 4),
        ("khach hang may man", 3), ("quay so trung thuong", 3), ("qua tri an", 3), ("trung thuong", 3),
        ("nhan thuong", 2), ("phan thuong", 2), ("nhan qua", 2), ("qua tang", 1), ("trung giai", 3),
        ("giai dac biet", 2), ("ma du thuong", 1),
    ]),
    (Scenario::Loan, &[
        ("dao han the tin dung", 3), ("rut tien the tin dung", 3), ("rut tien mat the tin dung", 3), ("ho tro tai chinh nhanh", 3), ("ho tro tai chinh", 2), ("dang can tien", 2), ("can tien khong", 2), ("vay the tin dung", 3), ("khoan no", 2), ("khoi kien", 3), ("tranh khoi kien", 4), ("no qua han", 2), ("vay tien the", 2),
        ("dong bang", 3), ("mo bang", 4), ("ho so vay", 2), ("khoan vay", 1), ("no xau", 2), ("vay tien", 2), ("khong can gap mat", 3), ("duyet tu dong", 2), ("nhan tien sau", 2), ("vay sieu toc", 4), ("tien mat nhanh", 3), ("san sang giai ngan", 3),
        ("vay tien nhanh", 4), ("giai ngan trong", 3), ("giai ngan ngay", 4), ("vay khong the chap", 4),
        ("khong can the chap", 4), ("chi can cccd", 4), ("chi can can cuoc", 4), ("khong tham dinh", 4),
        ("no xau van", 4), ("ho tro no xau", 3), ("vay online", 3), ("vay nhanh", 3), ("ho tro vay", 3),
        ("duyet vay", 3), ("phi giai ngan", 4), ("phi bao hiem khoan vay", 4), ("sai so tai khoan", 4),
        ("giai ngan", 2), ("lai suat thap", 1), ("vay tieu dung", 2), ("han muc vay", 2), ("vay von", 1),
    ]),
    (Scenario::MaliciousApp, &[
        ("file apk", 4), ("apk", 4), ("link cai dat", 3), ("ung dung dich vu cong", 2), ("tai app", 1),
        ("tai ung dung", 1), ("cai app", 1), ("cai dat ung dung", 1), ("cai ung dung", 1), ("ban cap nhat moi", 2),
        ("tai phien ban moi", 2), ("ung dung theo doi", 3), ("ung dung dieu khien", 4),
    ]),
    (Scenario::RecoveryScam, &[
        ("lay lai tien bi lua", 4), ("lay lai tien da bi lua", 4), ("ho tro lay lai tien", 4),
        ("thu hoi tien bi lua", 4), ("dich vu lay lai", 4), ("thu hoi so tien bi lua", 4), ("lay lai tien", 3),
        ("thu hoi tien", 3), ("ho tro lay lai", 3),
    ]),
    (Scenario::Delivery, &[
        ("dat lich giao lai", 2), ("khong lien lac duoc", 2), ("sai thong tin", 2), ("don hang da bi huy", 2), ("cap nhat va nhan hang", 3), ("phi ship", 1),
        ("phi giao hang", 3), ("hang bi giu", 3), ("giao hang that bai", 3), ("phi luu kho", 3),
        ("cap nhat dia chi giao hang", 3), ("buu kien cua ban", 2), ("kien hang cua ban", 2), ("buu pham", 1),
        ("buu kien", 1), ("shipper", 1), ("phi van chuyen", 1), ("don hang cod", 1), ("giao lai", 1),
    ]),
    (Scenario::Investment, &[
        ("bao lo", 3), ("lai suat cao", 2), ("dau tu vang", 2), ("san quoc te", 3), ("vang online", 3), ("mo tai khoan dau tu", 2), ("dau tu nong nghiep", 2),
        ("ma co phieu", 2), ("tang tran", 3), ("tro ly cua chuyen gia", 4), ("chuyen gia", 2), ("nhom vip", 3), ("phan tich co phieu", 2),
        ("cam ket loi nhuan", 4), ("loi nhuan cam ket", 4), ("nhan doi tai khoan", 4), ("x2 tai khoan", 4),
        ("keo lenh", 4), ("san ao", 4), ("room vip", 4), ("lai moi ngay", 4), ("loi nhuan moi ngay", 4),
        ("dau tu sinh loi", 3), ("dau tu tien ao", 4), ("san forex", 3), ("forex", 3), ("tien ao", 3),
        ("san giao dich", 2), ("loi nhuan cao", 3), ("chuyen gia tai chinh", 3), ("bitcoin", 2), ("usdt", 2),
        ("dau tu", 1), ("loi nhuan", 2), ("nhom telegram", 3), ("day chung khoan", 3),
    ]),
    (Scenario::RomanceGift, &[
        ("tim ban trai", 2), ("tim ban gai", 2), ("moi ve nuoc", 2), ("hinh that", 3), ("toi em ranh", 3), ("muon gap thi", 2), ("mon qua", 1), ("hai quan bao", 3), ("nhan vien hai quan", 3), ("hai quan", 2), ("kien hang tu nuoc ngoai", 3), ("tu nuoc ngoai", 2),
        ("chat sex", 4), ("video call", 2), ("hotgirl", 3), ("tim nguoi thuong", 2), ("noi chuyen tren telegram", 3), ("cho rieng tu", 2),
        ("gui qua tu nuoc ngoai", 4), ("qua tu my", 3), ("phi hai quan", 3), ("thue hai quan", 3),
        ("kien hang quoc te", 2), ("phi thong quan", 3), ("lam quen ket ban", 2), ("hen ho", 1),
    ]),
    (Scenario::Gambling, &[
        ("nap dau", 4), ("nha cai", 4), ("ca cuoc", 4), ("ca do bong da", 4), ("web ca do", 4), ("ca do the thao", 4),
        ("trang ca do", 4), ("choi ca do", 4), ("san ca do", 4), ("no hu", 4), ("tai xiu", 4), ("casino", 4),
        ("xoc dia", 4), ("baccarat", 4), ("lo de", 4), ("game bai doi thuong", 4), ("ban ca doi thuong", 4), ("game ban ca", 4),
        ("code tan thu", 3), ("danh de", 3), ("keo bong da", 3), ("hoan tra", 1), ("slot", 1),
        ("thuong nap", 3), ("cuoc the thao", 4), ("giftcode", 2),
    ]),
    (Scenario::TrafficFine, &[
        ("quyet dinh xu phat", 3), ("xu phat", 2), ("vi pham toc do", 3),
        ("phat nguoi", 3), ("nop phat vi pham", 3), ("vi pham giao thong", 2), ("bien ban vi pham", 2),
        ("nop phat truc tuyen", 3), ("chua nop phat", 3),
    ]),
    (Scenario::InsurancePayout, &[
        ("nhan tien 1 lan", 3), ("chot so", 3), ("rut bhxh", 3), ("khoan huong", 3), ("huong 1 lan", 3), ("can bo bhxh", 3),
        ("tien ho tro", 2), ("khoan tien ho tro", 3), ("nhan tien ho tro", 3), ("ho tro nguoi cao tuoi", 2), ("huong bhxh", 3),
        ("rut bhxh mot lan", 4), ("ho tro rut bhxh", 4), ("nhan tien bhxh", 4), ("nhan tien bao hiem xa hoi", 4),
        ("rut bao hiem xa hoi mot lan", 4), ("bhxh mot lan", 3), ("tro cap that nghiep", 3),
        ("bao hiem that nghiep", 2), ("chi tra bao hiem", 2), ("bhxh", 1), ("bao hiem xa hoi", 1),
        ("nhan tro cap", 3), ("quy bhxh", 3), ("quy bao hiem", 2),
    ]),
    (Scenario::UnwantedService, &[
        ("nang hang vip", 3), ("tu gia han", 2), ("khong phai ban", 3), ("neu khong dong y", 2), ("de huy", 2), ("phi thuong nien", 1), ("nang cap len", 2), ("nang hang", 2),
        ("chua tung dang ky", 4), ("gia han tu dong", 2), ("huy goi", 2), ("tu choi dich vu", 2), ("thu phi", 1), ("huy dang ky", 2),
        ("khong phai quy khach dang ky", 4), ("khong phai ban dang ky", 4), ("khong phai qk dang ky", 4),
        ("neu quy khach khong dang ky", 4), ("neu ban khong dang ky", 4), ("neu qk khong dang ky", 4),
        ("khong do quy khach dang ky", 4), ("quy khach khong dang ky", 3), ("tu dong tru", 2), ("se bi tru", 2),
        ("phi duy tri", 2), ("tru tien", 1),
    ]),
    (Scenario::AdvanceFee, &[
        ("nop phi", 3), ("phi tham dinh", 4), ("dong phi", 2), ("phi dich vu", 2), ("phi dang ky", 3), ("chuyen truoc", 3),
        ("chuyen khoan truoc", 3), ("ung truoc", 3), ("nop tien", 2), ("nop thue nhap khau", 3),
        ("phi bao hiem van chuyen", 4), ("can nop", 2), ("phi mo khoa", 4), ("phi kich hoat", 3), ("phi xac minh", 4),
        ("phi ho so", 3), ("phi giai ngan", 4), ("nop them", 2), ("chuyen them", 2), ("phi doi dia chi", 3),
        ("phi giu suat", 3), ("coc giu suat", 3), ("dat coc giu suat", 3), ("giu suat", 2), ("coc giu cho", 2),
        ("hoan lai sau", 2), ("hoan lai khi", 2), ("hoan lai neu", 2), ("nhan lai khi", 2), ("phi dong phuc", 3),
        ("lay hang mau", 2), ("stk ca nhan", 3), ("tai khoan ca nhan", 2),
    ]),
    (Scenario::ChannelSwitch, &[
        ("qua telegram", 3), ("qua viber", 3), ("qua signal", 3), ("tai signal", 3), ("tai telegram", 3), ("ket ban zalo", 2),
        ("add zalo", 2), ("them zalo", 2), ("inbox zalo", 2), ("nhan zalo", 2), ("qua zalo", 2), ("nhan tin zalo", 2),
        ("lien he zalo", 2), ("zalo cskh", 3), ("zalo ca nhan", 3), ("tin nhan sms khong an toan", 4),
        ("khong nhan tin o day duoc", 3), ("telegram", 2), ("zalo rieng", 3),
    ]),
    (Scenario::FakeRefund, &[
        ("nhan tien hoan", 3), ("hoan phi bao hiem", 3), ("khoan hoan phi", 3), ("nhan hoan tien", 3), ("nhan vien hoan tien", 4), ("de em hoan tien", 3), ("don hang bi loi", 2), ("bi loi thanh toan", 3), ("duoc hoan", 2),
        ("chuyen nham", 3), ("hoan tien don hang", 3), ("nhap the ngan hang", 4), ("nhap thong tin the", 4),
        ("duoc hoan tien", 2), ("hoan tien", 1), ("hoan phi", 2), ("chung toi hoan", 2),
    ]),
    (Scenario::FamilyEmergency, &[
        ("mat zalo", 3), ("nick moi", 3), ("lap nick moi", 4), ("chuyen lai giup", 4), ("gui nham", 3), ("dung noi voi bo me", 4), ("dung noi voi ai", 3), ("bi giu o don cong an", 4), ("tai khoan em dang bi loi", 3), ("tai khoan dang bi loi", 3), ("mat dien thoai", 3), ("vien phi", 2), ("chuyen giup", 2), ("muon tam", 2), ("cho em muon", 2), ("cho tao vay", 2), ("can gap", 2), ("ket o san bay", 4), ("phi hanh ly", 3), ("dong vien phi", 3), ("hoc phi gap", 3),
        ("dang cap cuu", 3), ("bi tai nan", 3), ("can tien gap", 3), ("chuyen gap", 3), ("muon tien gap", 3),
        ("dang can gap", 2), ("doi so moi", 2), ("so moi cua con", 2), ("vay gap", 3), ("phau thuat gap", 3),
        ("cap cuu", 2),
        // Why the asker cannot take a call or pay from their own account: so the reader cannot check.
        ("khong nghe may duoc", 3), ("khong nghe may dc", 3), ("ko nghe may duoc", 3), ("ko nghe may dc", 3),
        ("khong the nghe may", 3), ("khong goi duoc", 2), ("ko goi dc", 2), ("khong goi dc", 2), ("dung goi lai", 3),
        ("app ngan hang bi loi", 3), ("tai khoan bi loi", 3), ("tk bi loi", 3), ("bi vuot han muc", 2),
        ("tra lien", 1), ("toi tra", 1),
    ]),
];

/// Phrases of a scenario written once for every way a chat names a person: `{p}` stands for each of
/// [`PRONOUNS`] ("cho {p} mượn": "cho em mượn", "cho t mượn", "cho chị mượn"…).
#[rustfmt::skip]
pub(crate) const PERSON_PHRASES: &[(Scenario, &[(&str, u8)])] = &[
    (Scenario::FamilyEmergency, &[
        ("cho {p} muon", 2), ("tai khoan {p} bi loi", 3), ("tk {p} bi loi", 3), ("app cua {p} bi loi", 3),
        ("dung noi voi {p}", 3), ("{p} dang o benh vien", 2), ("{p} bi cong an giu", 4), ("{p} dang bi giu", 3),
        ("chuyen giup {p}", 2), ("ck giup {p}", 2), ("{p} dang hop", 1), ("toi {p} tra", 1), ("mai {p} tra", 1),
    ]),
];

/// How chats name the writer or the reader: the `{p}` of [`PERSON_PHRASES`].
pub(crate) const PRONOUNS: &[&str] = &[
    "em", "e", "anh", "a", "chi", "c", "t", "tao", "tui", "minh", "con", "bo", "me", "ba", "may",
    "m", "toi", "ban", "bn", "co", "chu", "bac", "ong",
];

/// Longer phrases that contain a scenario phrase but mean something else ("tiền điện thoại" is not
/// "tiền điện", "tất cả đồ uống" is not "cá độ"): a hit inside one of them does not count.
#[rustfmt::skip]
pub(crate) const NOT_SCENARIOS: &[&str] = &[
    "tien dien thoai", "cuoc dien thoai", "tat ca do", "so dien thoai", "cat dien thoai", "dong tien ao",
    "lan nap dau tien", "the nap dau tien", "nap the dau tien",
    // An OTP or login notice's own line: "if it was not you, call the number on your card".
    "neu khong phai ban thuc hien", "khong phai ban thuc hien", "neu khong phai quy khach thuc hien",
    // A lucky draw at an event the reader is invited to.
    "boc tham trung thuong",
];

/// Pressure to act now, with weight.
#[rustfmt::skip]
pub(crate) const URGENCY_PHRASES: &[(&str, u8)] = &[
    ("ngay lap tuc", 2), ("khan cap", 2), ("truoc 24h", 2), ("trong 24h", 2), ("trong vong 24h", 2),
    ("trong 24 gio", 2), ("trong ngay hom nay", 2), ("han chot", 2), ("het han", 1), ("se bi khoa", 2),
    ("se bi huy", 2), ("se bi xu ly", 2), ("xu ly theo phap luat", 2), ("lan cuoi", 2), ("cuoi cung", 1),
    ("gap", 1), ("nhanh chong", 1), ("trong 2h", 2), ("trong 2 gio", 2), ("sau 2h", 2), ("som nhat", 1),
    ("chi con", 1), ("keo mat", 2), ("tranh bi", 1), ("truoc 17h", 1), ("truoc 12h", 1), ("ngay hom nay", 1),
    ("truoc khi bi", 2), ("so luong co han", 1), ("han cuoi", 2), ("vinh vien", 2), ("de khong bi gian doan", 2),
    ("tranh bi khoa", 2), ("hoac bi", 1), ("kiem tra ngay", 2), ("huy ngay", 2), ("sap bi huy", 2),
];

/// A push to click, call, add a contact, install or pay, with weight.
#[rustfmt::skip]
pub(crate) const CALL_TO_ACTION_PHRASES: &[(&str, u8)] = &[
    ("truy cap", 2), ("bam vao", 2), ("nhan vao", 2), ("click", 2), ("an vao", 2), ("bam link", 2),
    ("vao link", 2), ("theo link", 2), ("duong link", 2), ("link", 1), ("dang nhap", 1), ("ket ban zalo", 2),
    ("lien he zalo", 2), ("nhan tin zalo", 2), ("add zalo", 2), ("inbox", 2), ("ib", 1), ("qua zalo", 2),
    ("zalo", 1), ("telegram", 2), ("goi ngay", 2), ("lien he ngay", 2), ("lien he", 1), ("lh", 1),
    ("phan hoi y", 2), ("tra loi y", 2), ("reply", 1), ("soan y", 2), ("chuyen khoan", 1), ("chuyen tien", 1),
    ("nop phi", 2), ("dong phi", 2), ("quet ma", 1), ("dang ky ngay", 2), ("nhan ngay", 2), ("xac nhan ngay", 2),
    ("tai ve", 1), ("kich hoat ngay", 2), ("cap nhat ngay", 2), ("xac nhan tai", 2), ("xac thuc tai", 2),
    ("xac minh tai", 2), ("cap nhat tai", 2), ("dang nhap tai", 2), ("kich hoat tai", 2), ("thanh toan tai", 1),
    ("goi lai so", 2), ("xem chi tiet", 1), ("vao ngay", 2), ("huy tai", 2), ("tra loi", 1), ("goi lai", 1),
    ("goi cho", 1),
    ("nhan tin", 1), ("chuyen khoan truoc", 2), ("them zalo", 2),
];

/// A sender's warning voice: bank and police advisories quote scam phrases to warn against them.
#[rustfmt::skip]
pub(crate) const ADVISORY_PHRASES: &[&str] = &[
    "khong bao gio yeu cau", "tuyet doi khong", "canh giac", "khuyen cao", "ke gian", "thu doan",
    "gia mao", "mao danh", "de phong", "can trong", "tranh bi lua", "khong cung cap",
    "khong chia se", "khong bam", "khong truy cap", "khong chuyen tien", "khong lam theo", "khong yeu cau khach hang",
    "khong yeu cau kh", "khong yeu cau quy khach", "khong yeu cau nguoi dan", "khong yeu cau ban",
    "canh bao", "khong thu tien", "khong nhan tin", "khong goi dien", "link la", "duong link la", "so la",
    "khong bao gio", "luu y", "can than", "coi chung", "neu co nguoi", "neu co ai", "xung la", "neu ban lo",
    "khong kich hoat", "hinh thuc lua dao", "dung bam", "dung tin", "xoa luon", "la lua dao", "toan lua dao",
    "deu la lua dao", "chu y", "khong gui duong link", "khong gui link", "khong gui tin nhan co duong link",
    // A statement of the reader's own account: a balance change, a completed transaction.
    "so du", "bien dong so du", "giao dich thanh cong", "sd tk",
    // The sender asks nothing: scams always do.
    "khong can thao tac", "khong can lam gi", "khong can cung cap", "da duoc cong", "khong thu phi", "da duoc hoan",
    "da chuyen vao",
];

/// Words that, among the last four before a phrase, turn it into advice against it.
pub(crate) const NEGATIONS: &[&str] = &["khong", "ko", "k", "dung", "cam", "chang"];
