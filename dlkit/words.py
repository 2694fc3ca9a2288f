"""The book's words in each language it is written in: one table, one function.

Every sentence dlkit prints for the book's reader, and every label a widget shows, is written
in English where it is used, ``say("✓ {name}: correct", name=name)`` (the gettext way: the
code reads as English, and the English is the key). After ``dlkit.config.set_language("zh")``
``say`` looks the English up in ZH and formats the Chinese with the same fields. A sentence
missing from ZH is shown in English (tests/test_words.py checks that none is missing, that no
entry is unused and that each Chinese sentence has its English one's fields).

Exceptions (errors for the programmer), model summaries and progress bars stay English, as
Keras's do; so do figures, since no CJK font can be assumed on a reader's machine.
"""
from . import config

__all__ = ["say", "say_in", "ZH"]

ZH = {
    # dlkit.exercises.check and check_all: the lines a reader's answer gets (✓ and ✗ stay:
    # the book's tests and the autograder look for them)
    "✓ {name}: correct": "✓ {name}：正确",
    " on all {n} test inputs": "（全部 {n} 组测试输入）",
    "✗ {name}: no answer yet - replace the ... with your code": "✗ {name}：还没有答案——请把 ... 换成你的代码",
    "your function returns nothing yet - replace the ... in it with your code":
        "你的函数还没有返回结果，请把函数里的 ... 换成你的代码",
    "✗ {name}: no answer yet - {detail}": "✗ {name}：还没有答案——{detail}",
    "✗ {name}: {reason}": "✗ {name}：{reason}",
    "✗ {name}: not yet - {detail}": "✗ {name}：还不对——{detail}",
    " (hint: {hint})": "（提示：{hint}）",
    ". Hint: {hint}": "。提示：{hint}",
    "not implemented yet": "还没有实现",
    "your code raised {error}: {message} (line {line}: {code})":
        "你的代码抛出了 {error}：{message}（第 {line} 行：{code}）",
    "got {answer}": "得到的是 {answer}",
    "got {type}, expected numbers": "得到的是 {type}，这里需要数值",
    "shape is {shape}, expected {expected}": "形状是 {shape}，应为 {expected}",
    "the answer contains NaN or inf": "答案中有 NaN 或 inf",
    "largest difference from the expected values is {err:.3g}": "与期望值的最大差为 {err:.3g}",
    "expected a function, got {type}": "这里需要一个函数，得到的是 {type}",
    "on test input {i} of {n} ({args}): {detail}": "在第 {i} 组测试输入上（共 {n} 组；{args}）：{detail}",
    "shape {shape}": "形状 {shape}",
    "{n}/{total} correct": "{n}/{total} 正确",
    # dlkit.gradcheck.compare's verdict line (the nbval sanitiser finds the number in both)
    "{name}: {what} = {diff:.1e} < {tol:.0e}: {ok}": "{name}：{what} = {diff:.1e} < {tol:.0e}：{ok}",
    "relative error({a}, {b})": "相对误差({a}, {b})",
    # dlkit.viz widgets: descriptions, dropdown labels, buttons, text beside a figure. Symbols
    # (x, β₁, ε, z1) and names (SGD, Adam, relu, the surfaces) are the same in both languages.
    # chapter 4: the backprop graph
    "input x": "输入 x", "weight w": "权重 w", "bias b": "偏置 b", "target y": "目标 y",
    "activation f": "激活函数 f",
    # chapter 8: convolution
    "digit": "图像编号", "kernel": "卷积核", "kernel size": "卷积核大小", "stride": "步幅",
    "padding": "填充", "vertical edge": "竖直边缘", "horizontal edge": "水平边缘",
    "blur": "模糊", "sharpen": "锐化", "identity": "恒等",
    "output size: <b>{formula}</b> (rows and columns alike)": "输出大小：<b>{formula}</b>（行与列相同）",
    # chapter 6: the optimizer explorer and race
    "surface": "曲面", "optimizer": "优化器", "learning rate": "学习率",
    "momentum / β₁": "动量 / β₁", "steps": "步数", "start x": "起点 x", "start y": "起点 y",
    "SGD + momentum": "SGD + 动量", "tolerance": "容差", "step": "单步",
    "play the race": "播放比赛",
    "first step within {tol} of a minimum": "首次进入极小值 {tol} 以内的步数",
    # chapter 9: gradient flow
    "recurrent scale": "循环权重尺度", "forget bias (LSTM)": "遗忘门偏置（LSTM）",
    # chapter 3: initialisation
    "initialiser": "初始化方法", "activation": "激活函数", "layers": "层数",
    "weight scale": "权重尺度", "naive normal N(0, 1)": "朴素正态 N(0, 1)",
    "Glorot uniform": "Glorot 均匀", "He normal": "He 正态",
    # chapter 2: the network playground
    "data": "数据", "noise": "噪声", "hidden layers": "隐藏层数", "units": "每层单元数",
    "batch size": "批量大小", "play": "播放", "pause": "暂停", "reset": "重置",
    "spirals": "螺旋", "moons": "双月", "circles": "同心圆", "xor": "异或", "blobs": "高斯团",
    "momentum": "动量",
    # chapter 5: softmax
    "logit z{i} (class {c})": "logit z{i}（类别 {c}）", "temperature T": "温度 T",
    "class {i}": "类别 {i}", "true class": "真实类别",
    # chapter 7: early stopping
    "monitor": "监控指标", "patience": "耐心轮数", "min delta": "最小改进量",
    # dlkit.classroom: what a released notebook asks for, and what the grader reports per test
    "# YOUR CODE HERE": "# 在这里写你的代码", "YOUR ANSWER HERE": "在这里写你的答案",
    "the test cell was deleted from the notebook": "这个测试单元格已从笔记本中删除",
    "missing test cells: {ids}": "缺少测试单元格：{ids}",
    "test cell {gid!r} ran longer than the time limit": "测试单元格 {gid!r} 的运行时间超过了限制",
    "cell {i} ({kind}): {error}": "第 {i} 个单元格（{kind}）：{error}",
    "a second cell {gid!r} was dropped": "重复的单元格 {gid!r} 已被忽略",
    # dlkit.website: the book's website (python -m dlkit book build)
    "Chapters": "章节", "Assignments": "作业", "Reference": "参考", "Glossary": "术语表",
    "English": "英文", "Chinese": "中文", "first in chapter": "首次出现的章",
    "the same page in Chinese": "本页的中文版", "the same page in English": "本页的英文版",
    "Click to show": "点击展开", "Click to hide": "点击收起",
    "Run this chapter": "运行本章", "Work on this assignment": "完成本作业",
    "This page is the notebook {download} with its saved outputs: nothing was re-run to make it, "
    "and its widgets are still pictures. To run it, move its widgets and check your answers, "
    "install the book in a clone of the repository and open it in JupyterLab (the first "
    "command); the second runs every test:":
        "本页就是笔记本 {download} 及其保存的输出：生成本页时没有重新运行任何代码，交互控件也只是"
        "静态画面。要运行它、拖动控件、检查你的答案，请在仓库的克隆中安装本书，再用 JupyterLab "
        "打开（第一条命令）；第二条命令运行全部测试：",
    "This page is the student copy of the assignment, as `python -m dlkit assign release` writes "
    "it: {download}. Open it in JupyterLab with dlkit installed (the first command, in a clone "
    "of the repository), write your code where it says `{stub}`, and hand the notebook in. The "
    "second command runs every test:":
        "本页是作业的学生版，即 `python -m dlkit assign release` 生成的笔记本：{download}。请在"
        "装好 dlkit 的 JupyterLab 中打开它（在仓库的克隆中运行第一条命令），在标有 `{stub}` "
        "的地方写代码，然后提交这个笔记本。第二条命令运行全部测试：",
    "On Binder: {url}": "在 Binder 上运行：{url}",
    "On Binder, for a public copy of the repository (OWNER/REPO is its name): {url}":
        "若仓库有公开的副本，也可以在 Binder 上运行（OWNER/REPO 换成它的名字）：{url}",
    "A still picture of the widget: in Jupyter its controls move it (see “{run}” under the "
    "chapter's title).": "交互控件的静态画面：在 Jupyter 中才能拖动它的控件（见本章标题下的“{run}”）。",
    "The student copies of the assignments follow this guide in the menu, as `python -m dlkit "
    "assign release` writes them: no solutions, no hidden tests, no outputs.":
        "目录中本指南之后是各个作业的学生版，与 `python -m dlkit assign release` 生成的相同："
        "没有参考答案，没有隐藏测试，也没有输出。",
    "The book's key terms, each with one Chinese and one English form (`book/glossary.csv`). "
    "Chapter 12 ends with the same table, and the tests fail when a chapter uses another "
    "translation of a term.":
        "本书的关键术语，每个术语只有一个中文译名和一个英文名（`book/glossary.csv`）。第 12 章"
        "末尾是同一张表；哪一章用了别的译名，测试就会失败。",
}


def say(text, **fields):
    """``text`` (English, with ``{fields}``) in the book's language, formatted with ``fields``:
    the Chinese from ZH after ``dlkit.config.set_language("zh")``, else the English."""
    return say_in(config.language(), text, **fields)


def say_in(language, text, **fields):
    """``say`` in a given language ("en" or "zh"), whatever the setting: the autograder speaks
    the language of the assignment it handles."""
    if language not in config.LANGUAGES:
        raise ValueError(f"unknown language {language!r}; choose one of {list(config.LANGUAGES)}")
    if language == "zh":
        text = ZH.get(text, text)
    return text.format(**fields) if fields else text
