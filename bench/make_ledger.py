"""Write a realistic historical ledger (台账) for the import benchmark.

    python bench/make_ledger.py --rows 10000 --out /tmp/ledger.csv    # or .xlsx

Rows use the demo union tree (fixtures/demo_unions.csv: codes and exact names both appear),
Chinese names, valid ID numbers (Foshan area codes, real birth dates, correct check digit),
several rows per worker in different years 2018-2024, amounts within the seeded policy's cap
of 10,000 yuan per payout, and the three fund sources. Deterministic for a given --seed.
Needs only the standard library (and openpyxl for .xlsx); no database.
"""

import argparse
import csv
import datetime as dt
import random
from pathlib import Path

COLUMNS = [
    "姓名",
    "身份证号",
    "基层工会",
    "困难类别",
    "困难情况",
    "申请日期",
    "批准金额",
    "发放日期",
    "发放金额",
    "资金来源",
    "凭证号",
    "备注",
]
SURNAMES = (
    "梁 黄 陈 李 张 何 吴 冯 罗 邓 潘 麦 区 关 谭 刘 杨 周 叶 苏 林 郭 曾 卢 钟 朱 伍 欧阳 司徒 "
    "岑 霍 简 招 植 孔 方 余 谢 蔡 彭"
).split()
GIVEN = (
    "志明 建华 丽华 国强 美玲 伟 芳 秀英 嘉豪 慧敏 少芬 永杰 凤仪 锦华 家明 海燕 文辉 淑贞 "
    "振邦 婉婷 俊 浩然 翠兰 耀祖 金凤 德明 颖 玉珍 树森 碧霞 子健 雪梅 荣 月娥 伟雄 桂英 "
    "志强 晓东 雅琪 敏仪"
).split()
AREAS = ["440605", "440604", "440606", "440607", "440608", "445102", "450902", "431021"]
GRASSROOTS = [
    ("XQ-S01", "西樵镇樵园社区工会"),
    ("XQ-S02", "西樵镇百西社区工会"),
    ("XQ-E01", "西樵纺织产业园企业联合工会"),
    ("XQ-E02", "樵山食品有限公司工会"),
    ("XQ-V01", "西樵镇民乐村工会"),
    ("XQ-V02", "西樵镇太平村工会"),
    ("DL-S01", "大沥镇盐步社区工会"),
    ("DL-E01", "沥东铝型材有限公司工会"),
    ("DL-E02", "大沥五金制品厂工会"),
    ("DL-V01", "大沥镇凤池村工会"),
    ("JJ-S01", "九江镇儒林社区工会"),
    ("JJ-E01", "九江食品有限公司工会"),
    ("JJ-V01", "九江镇沙头村工会"),
]
CATEGORIES = ["重大疾病", "意外伤害", "自然灾害", "子女就学", "家庭成员患病", "其他"]
STORIES = {
    "重大疾病": ["本人确诊{d}，需长期治疗，医疗费用负担沉重。", "本人{d}住院手术，自付费用较高。"],
    "意外伤害": ["本人工作中意外受伤，{d}，暂时无法工作。", "本人交通事故致{d}，收入中断。"],
    "自然灾害": ["家中房屋受台风损毁，{d}。", "暴雨致住房进水，{d}。"],
    "子女就学": ["两名子女在读，{d}，学费负担重。", "子女考上大学，{d}，家庭难以负担。"],
    "家庭成员患病": ["母亲患{d}，长期服药，需人照顾。", "配偶患{d}，无法工作。"],
    "其他": ["家庭突发变故，{d}，生活暂时困难。"],
}
DETAILS = ["尿毒症", "肾病透析", "肺癌", "乳腺癌", "脑梗", "骨折", "高血压和糖尿病", "白血病"]
FUNDS = ["区拨款", "镇自筹", "十元捐"]
NOTES = ["", "", "", "", "先救助后补手续", "已回访", "镇研讨会同意", "由社区代领"]
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(rng: random.Random, used: set[str]) -> str:
    while True:
        born = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(0, 40 * 365))
        first17 = f"{rng.choice(AREAS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
        number = (
            first17
            + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]
        )
        if number not in used:
            used.add(number)
            return number


def rows(count: int, seed: int):
    rng = random.Random(seed)
    used: set[str] = set()
    made = 0
    voucher = 0
    while made < count:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        number = id_number(rng, used)
        code, union_name = rng.choice(GRASSROOTS)
        # Most workers are helped once or twice; a few, like Mr. Liang, every year.
        years = rng.choices([1, 2, 3, 4, 6], weights=[30, 30, 20, 12, 8])[0]
        for year in sorted(rng.sample(range(2018, 2025), years)):
            if made == count:
                break
            categories = rng.sample(CATEGORIES, rng.choices([1, 2], weights=[80, 20])[0])
            story = "".join(
                rng.choice(STORIES[c]).format(d=rng.choice(DETAILS)) for c in categories
            )
            applied = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(0, 330))
            paid = applied + dt.timedelta(days=rng.randrange(7, 35))
            amount = rng.randrange(10, 101) * 100
            voucher += 1
            yield [
                name,
                number,
                code if rng.random() < 0.7 else union_name,
                "、".join(categories),
                story,
                applied,
                amount,
                paid,
                amount,
                rng.choice(FUNDS),
                f"PZ{year}-{voucher:06d}",
                rng.choice(NOTES),
            ]
            made += 1


def write_csv(path: Path, data) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for row in data:
            writer.writerow([f"{v:%Y-%m-%d}" if isinstance(v, dt.date) else f"{v}" for v in row])


def write_xlsx(path: Path, data) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("台账")
    sheet.append(COLUMNS)
    for row in data:
        sheet.append(row)  # dates as date cells, amounts as numbers, as Excel keeps them
    book.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--out", type=Path, required=True, help=".csv or .xlsx")
    args = parser.parse_args()
    data = rows(args.rows, args.seed)
    if args.out.suffix.lower() == ".xlsx":
        write_xlsx(args.out, data)
    else:
        write_csv(args.out, data)
    print(f"{args.rows} rows -> {args.out}")


if __name__ == "__main__":
    main()
