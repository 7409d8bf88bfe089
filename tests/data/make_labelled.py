"""Renders the hand-written complaints of `bank.py` as residents type them (an address or
none, greetings, dialect, typos, a phone number) into the two labelled sets the quality tests
read. Deterministic: run it again and the files are the same.

    python3 tests/data/make_labelled.py

- category_texts.jsonl: {"text", "category", "split"}; the held-out fifth ("test") is whole
  wordings never seen in training (every fifth wording of the bank), not re-renderings of them.
- duplicate_pairs.jsonl: {"place", "category", "a", "b", "same"}; at each place a new ticket
  `a` and five open tickets of its category told there: its duplicate (a resident telling the
  same problem another way) and four different problems, all near one address.
"""
import json
import os
import random

from bank import BANK

rng = random.Random(2026)
HERE = os.path.dirname(os.path.abspath(__file__))

ROADS = ["东华门大街", "南池子大街", "北河沿大街", "翠花胡同", "智德北巷", "骑河楼街"]
OPENERS = ["", "", "", "您好，", "你好，", "我要反映一下，", "领导好，", "投诉：", "举报一下，",
           "麻烦问一下，", "我是这里的住户，"]
CLOSERS = ["", "", "", "，麻烦尽快处理", "，谢谢！", "，都反映好几次了", "，希望尽快解决",
           "！！！", "，请管管吧", "。", "，太影响生活了", "，有没有人管啊？"]
DIALECT_TAILS = ["，咋整啊", "，真是没得办法", "，搞么子嘛", "，侬帮帮忙", "，晓得伐",
                 "，闹心得很", "，这可咋办", "，瞅着就来气"]
DIALECT_WORDS = {"很": ["贼", "老", "忒", "蛮"], "什么": ["啥", "啥子"], "没有": ["莫得", "没得"],
                 "不知道": ["不晓得"], "这里": ["这嘎达", "这块儿"]}
TYPOS = {"垃圾": "拉圾", "噪音": "燥音", "路灯": "路登", "电梯": "电第", "楼道": "楼到",
         "井盖": "井该", "停车": "亭车", "施工": "施公", "物业": "物页", "已经": "以经",
         "装修": "装休", "漏水": "露水", "消防": "消方", "扰民": "扰名", "晚上": "晚尚",
         "修剪": "修简", "占道": "站道", "电动车": "电动车车", "老人": "老仁", "广告": "广造"}


def address():
    n, m, u = rng.randint(1, 24), rng.randint(1, 12), rng.randint(1, 6)
    return rng.choice([
        f"{n}号楼", f"{n}号楼{u}单元", f"{m}号院{n}号楼", f"{n}号楼门口", f"{n}号楼楼下",
        "小区东门", "小区南门口", "幼儿园旁边", "菜市场对面", f"{rng.choice(ROADS)}{n}号",
        f"{rng.choice(ROADS)}和{rng.choice(ROADS)}路口", f"{n}号楼{u}单元{rng.randint(1, 6)}0{rng.randint(1, 4)}",
    ])


def phone():
    return "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))


def render(text, place=None):
    """One resident's way of typing `text`, at `place` (an address) or a new one."""
    out = text
    if rng.random() < 0.3:
        for word, options in DIALECT_WORDS.items():
            if word in out:
                out = out.replace(word, rng.choice(options), 1)
        if rng.random() < 0.5:
            out += rng.choice(DIALECT_TAILS)
    if rng.random() < 0.25:
        present = [w for w in TYPOS if w in out]
        if present:
            w = rng.choice(present)
            out = out.replace(w, TYPOS[w], 1)
    where = place if place is not None else (address() if rng.random() < 0.7 else "")
    if where and rng.random() < 0.85:
        out = rng.choice([f"{where}{out}", f"{where}，{out}", f"{out}，在{where}"])
    out = rng.choice(OPENERS) + out + rng.choice(CLOSERS)
    if rng.random() < 0.15:
        out += rng.choice(["，电话", "，联系我", "，我的手机", " 联系方式："]) + phone()
    return out


def category_texts():
    rows, k = [], 0
    for category, problems in BANK.items():
        for problem in problems:
            for wording in problem:
                split = "test" if k % 5 == 2 else "train"
                k += 1
                for _ in range(3):
                    rows.append({"text": render(wording), "category": category, "split": split})
    return rows


def duplicate_pairs():
    rows, place = [], 0
    for category, problems in BANK.items():
        for p, problem in enumerate(problems):
            others = [q for q in range(len(problems)) if q != p]
            wordings = list(range(len(problem)))
            for _ in range(2):
                i, j = rng.sample(wordings, 2)
                where = address()
                place += 1
                a = render(problem[i], where if rng.random() < 0.8 else "")
                told = [(render(problem[j], where if rng.random() < 0.8 else ""), True)]
                for q in rng.sample(others, min(4, len(others))):
                    other = rng.choice(problems[q])
                    told.append((render(other, where if rng.random() < 0.8 else ""), False))
                rng.shuffle(told)
                for b, same in told:
                    rows.append({"place": place, "category": category, "a": a, "b": b,
                                 "same": same})
    return rows


def write(name, rows):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(name, len(rows))


write("category_texts.jsonl", category_texts())
write("duplicate_pairs.jsonl", duplicate_pairs())
