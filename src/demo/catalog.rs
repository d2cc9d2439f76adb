//! What the demo's company sells and to whom: the kinds in its mix, its goods (with the
//! tax-free rice, the export, the gasoline and the vehicles) and its buyers.

use super::*;

/// The kinds in the demo's mix, with weights in percent.
pub(super) const MIX: [(InvoiceKind, u32); 6] = [
    (InvoiceKind::Electronic, 36),
    (InvoiceKind::Normal, 24),
    (InvoiceKind::Special, 20),
    (InvoiceKind::Roll, 10),
    (InvoiceKind::MotorVehicle, 5),
    (InvoiceKind::UsedCar, 5),
];

/// A product the company sells, as its catalogue row.
pub(super) struct Product {
    pub(super) name: &'static str,
    pub(super) class: &'static str,
    pub(super) rate: u16,
    pub(super) unit: &'static str,
    pub(super) spec: &'static str,
    pub(super) price: &'static str,
}

pub(super) const GOODS: [Product; 8] = [
    Product {
        name: "打印纸",
        class: "1060106010000000000",
        rate: 1300,
        unit: "箱",
        spec: "A4 70g",
        price: "120",
    },
    Product {
        name: "签字笔",
        class: "1060302010000000000",
        rate: 1300,
        unit: "盒",
        spec: "0.5mm",
        price: "25",
    },
    Product {
        name: "笔记本电脑",
        class: "1090511010000000000",
        rate: 1300,
        unit: "台",
        spec: "14英寸",
        price: "5200",
    },
    Product {
        name: "显示器",
        class: "1090512010000000000",
        rate: 1300,
        unit: "台",
        spec: "27英寸",
        price: "1299",
    },
    Product {
        name: "技术服务费",
        class: "3040201000000000000",
        rate: 600,
        unit: "次",
        spec: "",
        price: "3000",
    },
    Product {
        name: "软件维护费",
        class: "3040203000000000000",
        rate: 600,
        unit: "年",
        spec: "",
        price: "12000",
    },
    Product {
        name: "运输服务",
        class: "3010101020000000000",
        rate: 900,
        unit: "次",
        spec: "",
        price: "800",
    },
    Product {
        name: "网络设备",
        class: "1090513010000000000",
        rate: 1300,
        unit: "台",
        spec: "24口",
        price: "2680",
    },
];
pub(super) const RICE: Product = Product {
    name: "大米",
    class: "1010101010000000000",
    rate: 0,
    unit: "吨",
    spec: "",
    price: "3800",
};
pub(super) const EXPORT: Product = Product {
    name: "出口机电产品",
    class: "1090201010000000000",
    rate: 0,
    unit: "台",
    spec: "",
    price: "8600",
};
pub(super) const GASOLINE: Product = Product {
    name: "汽油",
    class: "1070101010100000000",
    rate: 1300,
    unit: "升",
    spec: "92号",
    price: "7.5",
};
pub(super) const CAR: Product = Product {
    name: "小型轿车",
    class: "1090305010000000000",
    rate: 1300,
    unit: "辆",
    spec: "",
    price: "150000",
};
pub(super) const USED_CAR: Product = Product {
    name: "二手轿车",
    class: "1090305020000000000",
    rate: 300,
    unit: "辆",
    spec: "",
    price: "68000",
};
/// Oil category of gasoline on the disk (D11).
pub(super) const GASOLINE_CATEGORY: OilCategory = 1;

pub(super) const BUYERS: [(&str, &str); 6] = [
    ("福州闽江贸易有限公司", "91350100MA34ABCD13"),
    ("泉州海丝物流有限公司", "91350500717890123E"),
    ("漳州九龙江食品有限公司", "110108123456789"),
    ("莆田木兰溪建材有限公司", "11010812345678901"),
    ("南平武夷山茶业有限公司", "11010812345678901234"),
    ("宁德三都澳海产有限公司", "91350800MA2Y6NQ4TW"),
];
