# Target: 50 worker threads, each blocked (in C, a lock acquire) in a different function on a
# different line. Spelled out rather than built at run time, so each is its own code object.
import _harness


def blocked_00():
    _harness.arrive()
    _harness.NEVER_RELEASED.acquire()


def blocked_01():
    _harness.arrive()
    step_0 = 0
    _harness.NEVER_RELEASED.acquire()


def blocked_02():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    _harness.NEVER_RELEASED.acquire()


def blocked_03():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    step_2 = 2
    _harness.NEVER_RELEASED.acquire()


def blocked_04():
    _harness.arrive()
    _harness.NEVER_RELEASED.acquire()


def blocked_05():
    _harness.arrive()
    step_0 = 0
    _harness.NEVER_RELEASED.acquire()


def blocked_06():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    _harness.NEVER_RELEASED.acquire()


def blocked_07():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    step_2 = 2
    _harness.NEVER_RELEASED.acquire()


def blocked_08():
    _harness.arrive()
    _harness.NEVER_RELEASED.acquire()


def blocked_09():
    _harness.arrive()
    step_0 = 0
    _harness.NEVER_RELEASED.acquire()


def blocked_10():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    _harness.NEVER_RELEASED.acquire()


def blocked_11():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    step_2 = 2
    _harness.NEVER_RELEASED.acquire()


def blocked_12():
    _harness.arrive()
    _harness.NEVER_RELEASED.acquire()


def blocked_13():
    _harness.arrive()
    step_0 = 0
    _harness.NEVER_RELEASED.acquire()


def blocked_14():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    _harness.NEVER_RELEASED.acquire()


def blocked_15():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    step_2 = 2
    _harness.NEVER_RELEASED.acquire()


def blocked_16():
    _harness.arrive()
    _harness.NEVER_RELEASED.acquire()


def blocked_17():
    _harness.arrive()
    step_0 = 0
    _harness.NEVER_RELEASED.acquire()


def blocked_18():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    _harness.NEVER_RELEASED.acquire()


def blocked_19():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    step_2 = 2
    _harness.NEVER_RELEASED.acquire()


def blocked_20():
    _harness.arrive()
    _harness.NEVER_RELEASED.acquire()


def blocked_21():
    _harness.arrive()
    step_0 = 0
    _harness.NEVER_RELEASED.acquire()


def blocked_22():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    _harness.NEVER_RELEASED.acquire()


def blocked_23():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    step_2 = 2
    _harness.NEVER_RELEASED.acquire()


def blocked_24():
    _harness.arrive()
    _harness.NEVER_RELEASED.acquire()


def blocked_25():
    _harness.arrive()
    step_0 = 0
    _harness.NEVER_RELEASED.acquire()


def blocked_26():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    _harness.NEVER_RELEASED.acquire()


def blocked_27():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    step_2 = 2
    _harness.NEVER_RELEASED.acquire()


def blocked_28():
    _harness.arrive()
    _harness.NEVER_RELEASED.acquire()


def blocked_29():
    _harness.arrive()
    step_0 = 0
    _harness.NEVER_RELEASED.acquire()


def blocked_30():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    _harness.NEVER_RELEASED.acquire()


def blocked_31():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    step_2 = 2
    _harness.NEVER_RELEASED.acquire()


def blocked_32():
    _harness.arrive()
    _harness.NEVER_RELEASED.acquire()


def blocked_33():
    _harness.arrive()
    step_0 = 0
    _harness.NEVER_RELEASED.acquire()


def blocked_34():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    _harness.NEVER_RELEASED.acquire()


def blocked_35():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    step_2 = 2
    _harness.NEVER_RELEASED.acquire()


def blocked_36():
    _harness.arrive()
    _harness.NEVER_RELEASED.acquire()


def blocked_37():
    _harness.arrive()
    step_0 = 0
    _harness.NEVER_RELEASED.acquire()


def blocked_38():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    _harness.NEVER_RELEASED.acquire()


def blocked_39():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    step_2 = 2
    _harness.NEVER_RELEASED.acquire()


def blocked_40():
    _harness.arrive()
    _harness.NEVER_RELEASED.acquire()


def blocked_41():
    _harness.arrive()
    step_0 = 0
    _harness.NEVER_RELEASED.acquire()


def blocked_42():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    _harness.NEVER_RELEASED.acquire()


def blocked_43():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    step_2 = 2
    _harness.NEVER_RELEASED.acquire()


def blocked_44():
    _harness.arrive()
    _harness.NEVER_RELEASED.acquire()


def blocked_45():
    _harness.arrive()
    step_0 = 0
    _harness.NEVER_RELEASED.acquire()


def blocked_46():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    _harness.NEVER_RELEASED.acquire()


def blocked_47():
    _harness.arrive()
    step_0 = 0
    step_1 = 1
    step_2 = 2
    _harness.NEVER_RELEASED.acquire()


def blocked_48():
    _harness.arrive()
    _harness.NEVER_RELEASED.acquire()


def blocked_49():
    _harness.arrive()
    step_0 = 0
    _harness.NEVER_RELEASED.acquire()


WORKERS = (
    blocked_00,
    blocked_01,
    blocked_02,
    blocked_03,
    blocked_04,
    blocked_05,
    blocked_06,
    blocked_07,
    blocked_08,
    blocked_09,
    blocked_10,
    blocked_11,
    blocked_12,
    blocked_13,
    blocked_14,
    blocked_15,
    blocked_16,
    blocked_17,
    blocked_18,
    blocked_19,
    blocked_20,
    blocked_21,
    blocked_22,
    blocked_23,
    blocked_24,
    blocked_25,
    blocked_26,
    blocked_27,
    blocked_28,
    blocked_29,
    blocked_30,
    blocked_31,
    blocked_32,
    blocked_33,
    blocked_34,
    blocked_35,
    blocked_36,
    blocked_37,
    blocked_38,
    blocked_39,
    blocked_40,
    blocked_41,
    blocked_42,
    blocked_43,
    blocked_44,
    blocked_45,
    blocked_46,
    blocked_47,
    blocked_48,
    blocked_49,
)


def setup():
    for worker in WORKERS:
        _harness.spawn(worker)


if __name__ == "__main__":
    _harness.main(setup)
