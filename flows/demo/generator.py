"""Deterministic demo export of Korean Zendesk VOC tickets for a recruiting platform."""

# The file follows the source contract of `zendesk_voc_classified` (one row per classification of a
# ticket) and plants one example of every severity in its last week against the week before, so the
# whole pipeline can be shown and tested without access to the production warehouse.

from __future__ import annotations

import io
import itertools
import json
import os
import random
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from flows.weeks import KST, week_monday

DEMO_WEEKS = 14
DEMO_SEED = 7

# Bumped whenever the generated content changes, so ensure_demo_data rewrites stale demo files.
_GENERATOR_VERSION = 1

_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        # Naive microsecond timestamps read back as DuckDB TIMESTAMP (nanoseconds would be
        # TIMESTAMP_NS) and match BigQuery's TIMESTAMP column of the production table.
        ("event_create_time", pa.timestamp("us")),
        ("title", pa.string()),
        ("detail", pa.string()),
        ("category1", pa.string()),
        ("category2", pa.string()),
        ("category3", pa.string()),
        ("overall_emotion", pa.string()),
        ("main_topic", pa.string()),
        ("keywords", pa.string()),
    ]
)

# Customers write far more on weekdays and during office hours (KST), as in the real inbox.
_WEEKDAY_WEIGHTS = (1.2, 1.15, 1.1, 1.05, 1.0, 0.45, 0.4)
_HOUR_WEIGHTS = (
    0.25, 0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.4, 0.8, 1.3, 1.6, 1.5,
    1.0, 1.4, 1.6, 1.5, 1.4, 1.2, 0.9, 0.7, 0.6, 0.6, 0.5, 0.4,
)  # fmt: skip

# One draw per ticket over the 168 hours of the week.
_WEEK_HOUR_CUMULATIVE = tuple(
    itertools.accumulate(day * hour for day in _WEEKDAY_WEIGHTS for hour in _HOUR_WEIGHTS)
)

_PII_SHARE = 0.2  # tickets carrying personal data (the brief asks for 15–25%)
_DUPLICATE_SHARE = 0.01  # tickets exported twice; half verbatim, half re-classified


@dataclass(frozen=True)
class _Final:
    """Exact tickets and negative tickets of a planted category in the baseline and report week."""

    prev: int
    prev_negative: int
    last: int
    last_negative: int


@dataclass(frozen=True)
class _Surge:
    """What the extra report-week tickets of a planted category talk about."""

    share: float
    titles: tuple[str, ...]
    details: tuple[str, ...]
    topic: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class _Leaf:
    """One leaf of the category tree with its weekly volume and its ticket text."""

    path: tuple[str, str, str] | None  # None: the classifier left the ticket uncategorized
    base: int  # typical tickets per week
    negative_share: float
    titles: tuple[str, ...]
    details: tuple[str, ...]
    topics: tuple[str, ...]
    keywords: tuple[str, ...]
    pii: tuple[str, ...] = ()  # personal data a customer plausibly pastes into this kind of ticket
    final: _Final | None = None  # planted baseline/report-week figures; None = stable
    surge: _Surge | None = None


_LOGIN = ("개인회원", "계정", "로그인 오류")
_PAYMENT_ERROR = ("기업회원", "결제", "결제 오류")
_APPROVAL_DELAY = ("기업회원", "채용공고", "공고 승인 지연")
_EVENT = ("개인회원", "이벤트", "이벤트 당첨 문의")
_ATTACHMENT = ("개인회원", "이력서", "파일 첨부 오류")
_APPLICANT_VIEW = ("기업회원", "지원자 관리", "지원자 열람")
_PUSH = ("개인회원", "알림", "푸시 알림 오류")

_LEAVES: tuple[_Leaf, ...] = (
    _Leaf(
        _LOGIN,
        30,
        0.37,
        (
            "로그인이 안 됩니다",
            "로그인 오류 문의",
            "비밀번호가 맞는데 로그인이 안 돼요",
            "{device}에서 로그인 실패",
            "로그인하면 오류 메시지가 떠요",
        ),
        (
            "{device}에서 로그인하려고 하면 '일시적인 오류가 발생했습니다'라는 메시지만 나옵니다.",
            "비밀번호를 정확히 입력했는데도 계속 로그인에 실패합니다.",
            "구글 계정으로 가입했는데 로그인 버튼을 눌러도 반응이 없습니다.",
            "로그인 후 바로 로그아웃되는 현상이 반복됩니다.",
        ),
        ("로그인 실패", "소셜 로그인 오류", "세션 만료"),
        ("로그인", "로그인 실패", "비밀번호", "구글 로그인", "오류 메시지", "세션 만료"),
        ("token_url", "ip", "birth_date"),
        final=_Final(30, 11, 65, 26),
        surge=_Surge(
            0.55,
            (
                "앱 업데이트 후 로그인 불가",
                "업데이트하고 나서 로그인이 안 돼요",
                "카카오 로그인 오류",
            ),
            (
                "어제 앱을 최신 버전으로 업데이트한 뒤로 로그인이 전혀 되지 않습니다.",
                "카카오 로그인을 누르면 흰 화면만 나오고 다음 단계로 넘어가지 않습니다.",
                "업데이트 이후 자동 로그인이 풀리고, 다시 로그인하면 오류가 납니다.",
            ),
            "앱 업데이트 후 로그인 오류",
            ("앱 업데이트", "카카오 로그인", "자동 로그인"),
        ),
    ),
    _Leaf(
        ("개인회원", "계정", "비밀번호 재설정"),
        32,
        0.25,
        ("비밀번호 재설정 메일이 안 와요", "비밀번호 변경 문의", "비밀번호 찾기가 안 됩니다"),
        (
            "비밀번호 찾기를 눌렀는데 재설정 메일이 {days}째 오지 않습니다.",
            "재설정 링크를 누르면 만료된 링크라고 나옵니다.",
            "새 비밀번호를 입력하면 조건에 맞지 않는다고 하는데 어떤 조건인지 모르겠습니다.",
        ),
        ("비밀번호 재설정 메일 미수신", "재설정 링크 만료"),
        ("비밀번호", "재설정", "인증메일", "메일 미수신", "링크 만료"),
        ("token_url", "ip"),
    ),
    _Leaf(
        ("개인회원", "계정", "본인인증"),
        16,
        0.35,
        ("본인인증이 계속 실패해요", "휴대폰 인증 오류", "본인인증 문자가 안 옵니다"),
        (
            "휴대폰 본인인증을 하면 '이미 가입된 정보'라고 나오는데 가입한 적이 없습니다.",
            "인증번호 문자가 오지 않아 인증을 끝낼 수 없습니다.",
            "개명 후 이름이 바뀌어 본인인증이 실패합니다.",
        ),
        ("본인인증 실패", "인증번호 미수신"),
        ("본인인증", "휴대폰 인증", "인증번호", "개명", "중복 가입"),
        ("rrn", "birth_date", "mobile_intl"),
    ),
    _Leaf(
        ("개인회원", "계정", "회원 탈퇴"),
        24,
        0.3,
        ("회원 탈퇴 요청", "탈퇴하고 싶습니다", "탈퇴 후 재가입 문의"),
        (
            "더 이상 서비스를 이용하지 않아 탈퇴하려고 하는데 탈퇴 메뉴를 찾을 수 없습니다.",
            "탈퇴하면 지원 기록과 이력서가 모두 삭제되는지 궁금합니다.",
            "탈퇴 후 같은 이메일로 다시 가입할 수 있나요?",
        ),
        ("회원 탈퇴 방법", "탈퇴 후 재가입"),
        ("탈퇴", "회원 탈퇴", "개인정보 삭제", "재가입"),
        ("birth_date", "rrn"),
    ),
    _Leaf(
        _ATTACHMENT,
        40,
        0.35,
        ("이력서 파일 업로드 오류", "PDF 첨부가 안 돼요", "포트폴리오 첨부 실패"),
        (
            "이력서 PDF를 첨부하면 업로드 중에 멈추고 더 진행되지 않습니다.",
            "포트폴리오 파일이 {n}MB인데 용량 초과라고 나옵니다.",
            "첨부한 파일이 지원서에서 깨져서 보인다고 기업에서 연락이 왔습니다.",
        ),
        ("파일 업로드 실패", "첨부 용량 제한"),
        ("파일 첨부", "PDF", "업로드 오류", "포트폴리오", "용량 초과"),
        ("token_url", "digit_run"),
        final=_Final(40, 14, 24, 8),
    ),
    _Leaf(
        ("개인회원", "이력서", "이력서 작성"),
        26,
        0.15,
        ("이력서 작성 문의", "경력 기간 입력 오류", "이력서 항목 추가 방법"),
        (
            "경력 사항에 재직 중인 회사를 추가하려는데 종료일을 비워 둘 수 없습니다.",
            "이력서에 자격증 항목을 추가하는 방법을 알고 싶습니다.",
            "이력서를 영문으로도 작성할 수 있는지 궁금합니다.",
        ),
        ("이력서 작성 방법", "경력 입력"),
        ("이력서", "경력", "자격증", "영문 이력서", "작성 방법"),
        ("birth_date", "landline"),
    ),
    _Leaf(
        ("개인회원", "이력서", "이력서 공개 설정"),
        13,
        0.2,
        ("이력서 비공개 설정 문의", "현 직장에 이력서가 보일까 걱정됩니다"),
        (
            "현재 다니는 {company}에 이력서가 노출되지 않게 하고 싶습니다.",
            "이력서를 비공개로 바꿨는데 기업에서 제안이 계속 옵니다.",
        ),
        ("이력서 비공개", "기업 차단"),
        ("이력서 공개", "비공개", "기업 차단", "제안"),
        ("token_url",),
    ),
    _Leaf(
        ("개인회원", "지원", "지원 취소"),
        34,
        0.2,
        ("지원 취소하고 싶어요", "잘못 지원했습니다", "지원 취소 방법 문의"),
        (
            "{company}의 {job} 포지션에 실수로 지원했는데 취소할 수 있을까요?",
            "지원 취소 버튼이 보이지 않습니다.",
            "지원을 취소하면 기업에 알림이 가는지 궁금합니다.",
        ),
        ("지원 취소 방법", "잘못된 지원"),
        ("지원 취소", "지원 철회", "실수 지원", "포지션"),
        ("digit_run",),
    ),
    _Leaf(
        ("개인회원", "지원", "지원 현황 문의"),
        38,
        0.3,
        ("지원 결과는 언제 나오나요", "서류 검토 중에서 변동이 없어요", "지원 현황 문의"),
        (
            "{company}에 지원한 지 {days}이 지났는데 계속 '서류 검토 중'으로 나옵니다.",
            "불합격 안내를 받았는데 지원 현황에는 아직 진행 중으로 보입니다.",
            "기업이 제 이력서를 열람했는지 확인할 수 있나요?",
        ),
        ("지원 결과 지연", "지원 상태 불일치"),
        ("지원 현황", "서류 검토", "열람 여부", "결과 안내", "불합격"),
        ("digit_run", "landline"),
    ),
    _Leaf(
        ("개인회원", "합격보상금", "지급 문의"),
        30,
        0.45,
        ("합격보상금 언제 지급되나요", "합격보상금 미지급", "보상금 지급 일정 문의"),
        (
            "{company}에 입사한 지 한 달이 넘었는데 합격보상금 {amount}이 아직 안 들어왔습니다.",
            "합격보상금 신청을 완료했는데 지급 예정일이 표시되지 않습니다.",
            "보상금 지급 전에 원천징수가 되는지 궁금합니다.",
        ),
        ("합격보상금 미지급", "지급 일정"),
        ("합격보상금", "지급 지연", "입사", "원천징수", "신청 완료"),
        ("bank_account", "rrn"),
    ),
    _Leaf(
        ("개인회원", "합격보상금", "지급 조건"),
        18,
        0.3,
        ("합격보상금 대상인가요", "보상금 지급 조건 문의"),
        (
            "지인 추천으로 지원했는데 합격보상금 대상인지 궁금합니다.",
            "입사 후 {days} 만에 퇴사하면 보상금이 취소되나요?",
            "계약직으로 입사해도 합격보상금을 받을 수 있나요?",
        ),
        ("지급 대상 여부", "퇴사 시 환수"),
        ("합격보상금", "지급 조건", "계약직", "추천", "환수"),
        ("bank_account",),
    ),
    _Leaf(
        _EVENT,
        13,
        0.25,
        ("이벤트 당첨 확인", "이벤트 경품이 안 왔어요", "당첨 안내 문자 관련 문의"),
        (
            "이력서 완성 이벤트에 당첨됐다는 문자를 받았는데 경품이 아직 오지 않았습니다.",
            "당첨자 발표 페이지에 제 이름이 없는데 당첨 문자를 받았습니다.",
            "경품 수령을 위해 어떤 정보를 보내야 하는지 알려 주세요.",
        ),
        ("이벤트 경품 미수령", "당첨 확인"),
        ("이벤트", "당첨", "경품", "기프티콘", "당첨자 발표"),
        ("bank_account", "birth_date"),
        final=_Final(0, 0, 13, 3),
    ),
    _Leaf(
        ("개인회원", "알림", "이메일 수신 설정"),
        8,
        0.15,
        ("광고 메일 수신 거부", "이메일 알림 끄는 방법"),
        (
            "포지션 추천 메일이 너무 자주 와서 수신을 끄고 싶습니다.",
            "수신 거부를 했는데도 뉴스레터가 계속 옵니다.",
        ),
        ("메일 수신 거부",),
        ("이메일", "수신 거부", "뉴스레터", "알림 설정"),
        ("token_url",),
    ),
    _Leaf(
        _PUSH,
        4,
        0.4,
        ("푸시 알림이 안 와요", "앱 알림 오류"),
        (
            "{device}에서 지원 결과 푸시 알림이 오지 않습니다.",
            "알림 설정은 켜져 있는데 메시지 알림이 한 번도 오지 않았습니다.",
        ),
        ("푸시 알림 미수신",),
        ("푸시 알림", "앱 알림", "알림 설정"),
        ("ip",),
        final=_Final(5, 2, 0, 0),
    ),
    _Leaf(
        _APPROVAL_DELAY,
        12,
        0.33,
        ("채용공고 승인이 안 나요", "공고 검수 지연 문의", "공고 등록 후 승인 대기 중"),
        (
            "{job} 채용공고를 등록한 지 {days}이 지났는데 아직 승인 대기 상태입니다.",
            "공고 검수가 언제 끝나는지 안내를 받지 못했습니다.",
            "급하게 채용해야 해서 공고 승인을 빨리 부탁드립니다.",
        ),
        ("공고 승인 지연", "검수 기준 문의"),
        ("공고 승인", "검수", "승인 대기", "채용공고 등록"),
        ("business_no", "landline"),
        final=_Final(12, 4, 15, 5),
    ),
    _Leaf(
        ("기업회원", "채용공고", "공고 수정"),
        22,
        0.2,
        ("공고 내용 수정 요청", "게시 중인 공고 수정 방법", "공고 직무 변경 문의"),
        (
            "게시 중인 {job} 공고의 연봉 정보를 수정하고 싶습니다.",
            "공고를 수정하면 다시 검수를 받아야 하나요?",
            "공고 제목의 오타를 고치려는데 저장이 되지 않습니다.",
        ),
        ("공고 수정", "재검수 여부"),
        ("공고 수정", "연봉", "재검수", "직무 변경"),
        ("landline", "token_url"),
    ),
    _Leaf(
        ("기업회원", "채용공고", "공고 마감"),
        12,
        0.15,
        ("공고 조기 마감 요청", "마감된 공고 다시 열기"),
        (
            "채용이 완료되어 {job} 공고를 조기 마감하고 싶습니다.",
            "실수로 마감한 공고를 다시 게시할 수 있나요?",
        ),
        ("공고 조기 마감", "공고 재게시"),
        ("공고 마감", "조기 마감", "재게시"),
        ("landline",),
    ),
    _Leaf(
        _PAYMENT_ERROR,
        25,
        0.16,
        ("결제 오류 문의", "결제가 실패했다고 나옵니다", "이용권 결제 오류"),
        (
            "채용 이용권을 결제하려는데 '결제 승인 실패' 메시지가 나옵니다.",
            "법인카드로 결제하면 한도 초과라고 나오는데 한도는 충분합니다.",
            "결제는 완료됐는데 이용권이 적용되지 않았습니다.",
        ),
        ("결제 승인 실패", "이용권 미적용"),
        ("결제 오류", "결제 실패", "법인카드", "이용권", "승인 실패"),
        ("card", "digit_run", "business_no"),
        final=_Final(25, 4, 26, 13),
        surge=_Surge(
            0.45,
            ("중복 결제됐어요", "결제 금액이 두 번 빠져나갔습니다", "이중 결제 환불 요청"),
            (
                "이용권을 한 번 결제했는데 카드 승인 문자가 두 번 왔습니다.",
                "결제 버튼을 한 번 눌렀는데 같은 금액이 두 번 청구되었습니다.",
                "중복 결제된 금액을 언제 취소해 주시는지 답변이 없습니다.",
            ),
            "중복 결제",
            ("중복 결제", "이중 청구", "결제 취소"),
        ),
    ),
    _Leaf(
        ("기업회원", "결제", "세금계산서"),
        20,
        0.15,
        ("세금계산서 발행 요청", "세금계산서 정보 변경", "세금계산서가 안 왔어요"),
        (
            "지난달 결제 건의 세금계산서를 발행해 주세요.",
            "세금계산서 수신 이메일을 회계 담당자 메일로 바꾸고 싶습니다.",
            "세금계산서에 상호가 {company} 대신 다른 이름으로 나왔습니다.",
        ),
        ("세금계산서 발행", "발행 정보 변경"),
        ("세금계산서", "발행", "회계", "사업자 정보"),
        ("business_no", "landline"),
    ),
    _Leaf(
        ("기업회원", "결제", "환불 요청"),
        17,
        0.5,
        ("이용권 환불 요청", "환불 언제 되나요", "미사용 이용권 환불"),
        (
            "채용이 취소되어 사용하지 않은 이용권을 환불받고 싶습니다.",
            "환불 요청을 한 지 {days}이 지났는데 아직 입금되지 않았습니다.",
            "부분 환불이 가능한지 궁금합니다.",
        ),
        ("미사용 이용권 환불", "환불 지연"),
        ("환불", "이용권", "부분 환불", "환불 지연"),
        ("bank_account", "card"),
    ),
    _Leaf(
        _APPLICANT_VIEW,
        36,
        0.25,
        ("지원자 이력서가 안 열려요", "지원자 열람 오류", "지원자 목록이 보이지 않습니다"),
        (
            "지원자 관리 화면에서 이력서를 열면 빈 페이지만 나옵니다.",
            "{job} 공고에 지원자가 {n}명이라고 나오는데 목록에는 보이지 않습니다.",
            "지원자 첨부파일을 내려받으면 파일이 깨져 있습니다.",
        ),
        ("이력서 열람 오류", "지원자 목록 누락"),
        ("지원자 열람", "이력서 열람", "첨부파일", "지원자 목록"),
        ("token_url", "ip"),
        final=_Final(36, 9, 27, 6),
    ),
    _Leaf(
        ("기업회원", "지원자 관리", "면접 일정"),
        15,
        0.25,
        ("면접 일정 변경 방법", "면접 제안 메시지 오류"),
        (
            "지원자에게 보낸 면접 일정을 변경하고 싶습니다.",
            "면접 제안 메시지를 보냈는데 지원자가 받지 못했다고 합니다.",
            "화상 면접 링크를 일정에 함께 넣을 수 있나요?",
        ),
        ("면접 일정 변경", "면접 제안 미수신"),
        ("면접 일정", "면접 제안", "화상 면접", "일정 변경"),
        ("landline",),
    ),
    _Leaf(
        ("기업회원", "지원자 관리", "합격 처리"),
        11,
        0.2,
        ("합격 처리 방법 문의", "합격 처리를 잘못했어요"),
        (
            "최종 합격자를 합격 처리하려면 어떻게 해야 하나요?",
            "다른 지원자를 실수로 합격 처리했는데 되돌릴 수 있을까요?",
        ),
        ("합격 처리 방법", "합격 처리 취소"),
        ("합격 처리", "최종 합격", "처리 취소"),
        ("digit_run",),
    ),
    _Leaf(
        ("기업회원", "기업 계정", "기업 인증"),
        19,
        0.3,
        ("기업 인증 요청", "기업 인증이 반려됐어요", "사업자 인증 문의"),
        (
            "{company} 기업 인증을 신청했는데 반려 사유를 알 수 없습니다.",
            "사업자등록증을 올렸는데 인증이 완료되지 않습니다.",
            "지점 사업자로도 기업 인증이 가능한가요?",
        ),
        ("기업 인증 반려", "사업자 인증"),
        ("기업 인증", "사업자등록증", "반려", "지점"),
        ("business_no", "landline"),
    ),
    _Leaf(
        ("기업회원", "기업 계정", "담당자 변경"),
        9,
        0.1,
        ("채용 담당자 변경 요청", "관리자 계정 이전"),
        (
            "채용 담당자가 퇴사해서 관리자 계정을 새 담당자에게 넘기고 싶습니다.",
            "담당자 연락처를 변경하려는데 저장이 되지 않습니다.",
        ),
        ("관리자 계정 이전",),
        ("담당자 변경", "관리자", "계정 이전"),
        ("business_no", "landline"),
    ),
)

# Tickets the classifier could not place. They arrive with NULL, empty or whitespace-only
# categories, which staging turns into '(미분류)'.
_UNCLASSIFIED = _Leaf(
    None,
    5,
    0.2,
    ("문의드립니다", "확인 부탁드려요", "질문 있습니다", "안녕하세요"),
    (
        "안녕하세요. 문의드릴 것이 있어 연락드립니다.",
        "어디에 문의해야 할지 몰라 여기에 남깁니다.",
        "지난번 문의 건 답변을 아직 받지 못했습니다.",
    ),
    ("기타 문의",),
    ("문의", "기타"),
    ("digit_run",),
)

_TONE: dict[str, tuple[str, ...]] = {
    "negative": (
        "벌써 며칠째 해결이 안 되고 있습니다.",
        "너무 불편합니다. 빠른 조치 부탁드립니다.",
        "이전에도 문의했는데 답변이 없었습니다.",
        "이런 문제가 반복되니 서비스 이용이 꺼려집니다.",
        "급한 상황이라 오늘 안에 답변 부탁드립니다.",
    ),
    "positive": (
        "항상 잘 이용하고 있습니다.",
        "지난번에 빠르게 처리해 주셔서 감사했습니다.",
        "친절한 안내 미리 감사드립니다.",
    ),
    "neutral": (
        "확인 부탁드립니다.",
        "방법을 안내해 주시면 감사하겠습니다.",
        "답변 기다리겠습니다.",
    ),
}

_FILLERS: dict[str, tuple[str, ...]] = {
    "company": ("(주)한빛테크", "주식회사 블루오션랩", "그린스텝", "(주)누리소프트", "모아컴퍼니"),
    "job": ("백엔드 개발자", "프로덕트 디자이너", "데이터 분석가", "마케팅 매니저", "인사 담당자"),
    "device": ("아이폰 앱", "안드로이드 앱", "크롬 브라우저", "사파리", "PC 웹"),
    "amount": ("30만원", "50만원", "100만원"),
    "days": ("사흘", "5일", "일주일", "열흘", "보름"),
    "n": ("3", "5", "12", "20", "27"),
}

# Every kind of personal data the staging mask must catch, each in a sentence a customer might
# write. {v} is the value.
_PII_SENTENCES: dict[str, tuple[str, ...]] = {
    "email": ("회신은 {v} 으로 부탁드립니다.", "가입한 이메일은 {v} 입니다."),
    "mobile_dash": ("연락처는 {v} 입니다.", "급하면 {v} 로 전화 주세요."),
    "mobile_compact": ("제 번호는 {v} 입니다.", "{v} 로 문자 주세요."),
    "mobile_intl": ("해외에 있어서 {v} 로 연락 부탁드립니다.",),
    "landline": ("회사 대표번호 {v} 로 연락 주시면 됩니다.", "사무실 번호는 {v} 입니다."),
    "rrn": ("본인 확인용으로 주민등록번호 {v} 남깁니다.", "주민번호 {v} 로 인증을 시도했습니다."),
    "card": ("결제한 카드번호는 {v} 입니다.", "카드 {v} 로 결제했습니다."),
    "business_no": ("사업자등록번호는 {v} 입니다.", "사업자번호 {v} 로 조회해 주세요."),
    "bank_account": ("환불 계좌: {v}", "입금 계좌는 {v} 입니다.", "계좌번호 {v} 로 보내 주세요."),
    "birth_date": ("생년월일 {v} 입니다.", "생년월일: {v}"),
    "ip": ("접속 IP는 {v} 로 확인됩니다.", "회사 네트워크({v})에서 접속하고 있습니다."),
    "token_url": (
        "메일로 받은 링크 {v} 를 눌러도 만료되었다고 나옵니다.",
        "{v} 주소로 들어가면 오류가 납니다.",
    ),
    "digit_run": ("주문번호 {v} 확인 부탁드립니다.", "결제 승인번호는 {v} 입니다."),
}
_PII_KINDS = tuple(_PII_SENTENCES)
_GENERIC_PII = ("email", "mobile_dash", "mobile_compact")  # fits any ticket
_EMAIL_NAMES = (
    "hong.gildong",
    "kim.minji",
    "lee.junho",
    "park.seoyeon",
    "choi.dohyun",
    "jung.hana",
    "kang.minsu",
    "yoon.jiwoo",
)
_EMAIL_DOMAINS = ("example.com", "example.co.kr", "mail.example.net")
_BANKS = (
    ("국민은행", (6, 2, 6)),
    ("신한은행", (3, 3, 6)),
    ("우리은행", (4, 3, 6)),
    ("카카오뱅크", (4, 2, 7)),
    ("하나은행", (3, 6, 5)),
)


@dataclass(slots=True)
class _Row:
    """One row of the export, before ids are assigned."""

    created_kst: datetime
    title: str
    detail: str
    category1: str | None
    category2: str | None
    category3: str | None
    emotion: str | None
    main_topic: str | None
    keywords: str | None
    leaf: _Leaf
    id: str = ""


def write_demo_data(path: Path, end_week: date, weeks: int = DEMO_WEEKS, seed: int = DEMO_SEED) -> int:
    """Write `weeks` KST weeks of demo tickets ending with week `end_week`; return the row count."""
    _check_monday(end_week)
    if weeks < 2:
        raise ValueError(f"weeks must be at least 2 (a baseline and a report week), got {weeks}")
    rng = random.Random(seed)
    first_week = end_week - timedelta(days=7 * (weeks - 1))
    plan = _plan_counts(rng, weeks)
    rows = _generate_rows(rng, plan, first_week, weeks)
    rows = _assign_ids(rng, rows)
    rows = _add_duplicates(rng, rows, first_week)
    # Exports come roughly in creation order; the id breaks ties so the file is stable.
    rows.sort(key=lambda row: (row.created_kst, row.id))
    _write_parquet(path, rows)
    _write_json(
        _sidecar_path(path),
        {
            "end_week": end_week.isoformat(),
            "weeks": weeks,
            "seed": seed,
            "rows": len(rows),
            "generator_version": _GENERATOR_VERSION,
        },
    )
    return len(rows)


def ensure_demo_data(path: Path, end_week: date) -> Path:
    """Write the demo data unless `path` already holds it for `end_week`; return `path`."""
    _check_monday(end_week)
    if not _is_current(path, end_week):
        write_demo_data(path, end_week)
    return path


def _check_monday(day: date) -> None:
    """Reject a week start that is not a Monday: weeks run Monday–Sunday KST."""
    if week_monday(day) != day:
        raise ValueError(f"end_week must be a Monday, got {day.isoformat()} ({day:%A})")


def _sidecar_path(path: Path) -> Path:
    """The JSON file recording what the demo file at `path` was generated with."""
    return path.with_name(path.name + ".json")


def _is_current(path: Path, end_week: date) -> bool:
    """Whether `path` holds complete demo data generated with the defaults for `end_week`."""
    try:
        meta = json.loads(_sidecar_path(path).read_text(encoding="utf-8"))
        expected = {
            "end_week": end_week.isoformat(),
            "weeks": DEMO_WEEKS,
            "seed": DEMO_SEED,
            "generator_version": _GENERATOR_VERSION,
        }
        if any(meta.get(key) != value for key, value in expected.items()):
            return False
        # The footer alone tells whether the file is the one the sidecar describes; reading it is
        # cheap and catches a file replaced by hand.
        return bool(pq.read_metadata(path).num_rows == meta["rows"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, pa.ArrowException):
        return False


def _plan_counts(rng: random.Random, weeks: int) -> list[tuple[_Leaf, list[tuple[int, int]]]]:
    """Tickets and negative tickets per category and week, fixed before any ticket exists."""
    baseline = weeks - 2
    plan: list[tuple[_Leaf, list[tuple[int, int]]]] = []
    for leaf in (*_LEAVES, _UNCLASSIFIED):
        if leaf.final is not None:
            final = leaf.final
            level = final.prev or leaf.base
            share = final.prev_negative / final.prev if final.prev else leaf.negative_share
            last_two = [(final.prev, final.prev_negative), (final.last, final.last_negative)]
        else:
            # Stable categories: the last two weeks differ by at most 10% in tickets and 5
            # percentage points in negative share, far inside every threshold, so noise can never
            # flag them.
            prev = max(1, round(leaf.base * rng.uniform(0.95, 1.05)))
            last = prev + rng.randint(-(prev // 10), prev // 10)
            prev_negative = _negatives(rng, prev, leaf.negative_share, 0.03)
            level, share = prev, prev_negative / prev
            last_two = [(prev, prev_negative), (last, _close_negatives(rng, last, share))]
        # Older weeks drift towards the baseline along a gentle trend, with more noise, so the
        # history looks real.
        trend = rng.uniform(-0.15, 0.15)
        history: list[tuple[int, int]] = []
        for week in range(baseline):
            if leaf.final is not None and leaf.final.prev == 0:
                history.append((0, 0))  # a brand-new category has no history
                continue
            factor = (1 + trend * (week - baseline) / baseline) * rng.uniform(0.85, 1.15)
            count = max(1, round(level * factor))
            if leaf.final is not None and leaf.final.last == 0:
                count = min(count, 6)  # a vanishing category was always small
            history.append((count, _negatives(rng, count, share, 0.06)))
        plan.append((leaf, history + last_two))
    return plan


def _negatives(rng: random.Random, count: int, share: float, jitter: float) -> int:
    """A negative-ticket count near `share` of `count`."""
    noisy = min(1.0, max(0.0, share + rng.uniform(-jitter, jitter)))
    return round(count * noisy)


def _close_negatives(rng: random.Random, count: int, share: float) -> int:
    """A negative-ticket count whose share of `count` is within 5 percentage points of `share`."""
    if count == 0:
        return 0
    close = [k for k in range(count + 1) if abs(k / count - share) <= 0.05]
    return rng.choice(close) if close else round(count * share)


def _generate_rows(
    rng: random.Random,
    plan: list[tuple[_Leaf, list[tuple[int, int]]]],
    first_week: date,
    weeks: int,
) -> list[_Row]:
    """Tickets matching the plan, with KST creation times, text and classification."""
    rows: list[_Row] = []
    for week in range(weeks):
        monday = datetime.combine(first_week + timedelta(days=7 * week), time(), KST)
        is_report_week = week == weeks - 1
        # Every kind of personal data shows up in the two compared weeks, whatever the seed.
        forced_pii = list(_PII_KINDS) if week >= weeks - 2 else []
        week_rows: list[_Row] = []
        for leaf, counts in plan:
            count, negative = counts[week]
            surges = round(count * leaf.surge.share) if leaf.surge and is_report_week else 0
            for index in range(count):
                week_rows.append(
                    _make_row(
                        rng,
                        leaf,
                        created_kst=_random_time(rng, monday),
                        is_negative=index < negative,
                        # The surge is what customers are upset about: it takes the negative
                        # tickets first.
                        is_surge=index < surges,
                        forced_pii=forced_pii,
                    )
                )
        rows.extend(_pin_boundary_times(rng, week_rows, monday, exact_start=week >= weeks - 2))
    return rows


def _random_time(rng: random.Random, monday: datetime) -> datetime:
    """A KST time in the week starting `monday`, weighted towards weekdays and office hours."""
    hour = rng.choices(range(168), cum_weights=_WEEK_HOUR_CUMULATIVE)[0]
    return monday + timedelta(hours=hour, seconds=rng.randrange(3600))


def _pin_boundary_times(
    rng: random.Random, week_rows: list[_Row], monday: datetime, exact_start: bool
) -> list[_Row]:
    """Move a few tickets to the edges of the KST week, where a UTC week would cut differently."""
    if len(week_rows) < 3:
        return week_rows
    sunday_late = monday + timedelta(days=6, hours=23)
    picks = rng.sample(range(len(week_rows)), 3)
    # Sunday 23:xx KST is Sunday 14:xx UTC; the last of these is the newest ticket of the week, so
    # the report week's data reaches into its final three hours.
    for index in picks[:2]:
        offset = timedelta(minutes=rng.randrange(60), seconds=rng.randrange(60))
        week_rows[index].created_kst = sunday_late + offset
    # Monday 00:xx KST is still the previous Sunday in UTC. In the compared weeks one ticket sits
    # exactly on the boundary, which belongs to the new week.
    start_offset = timedelta() if exact_start else timedelta(minutes=rng.randrange(60))
    week_rows[picks[2]].created_kst = monday + start_offset
    return week_rows


def _make_row(
    rng: random.Random,
    leaf: _Leaf,
    created_kst: datetime,
    is_negative: bool,
    is_surge: bool,
    forced_pii: list[str],
) -> _Row:
    """One ticket of `leaf`: classification, emotion and Korean text, maybe with personal data."""
    fill = _Fill(rng)
    surge = leaf.surge if is_surge else None
    titles = surge.titles if surge else leaf.titles
    details = surge.details if surge else leaf.details
    title = rng.choice(titles).format_map(fill)
    opening = rng.choice(details)
    sentences = [opening.format_map(fill)]
    if rng.random() < 0.35:
        second = rng.choice([detail for detail in details if detail != opening])
        sentences.append(second.format_map(fill))

    emotion = _emotion(rng, is_negative)
    tone = "negative" if is_negative else {"긍정": "positive"}.get((emotion or "").strip(), "neutral")
    if rng.random() < (0.85 if is_negative else 0.6):
        sentences.append(rng.choice(_TONE[tone]))

    if forced_pii or rng.random() < _PII_SHARE:
        kinds = [forced_pii.pop(0)] if forced_pii else [_pick_pii_kind(rng, leaf)]
        if rng.random() < 0.15:
            kinds.append(_pick_pii_kind(rng, leaf))
        # Keep the body within four sentences: personal data replaces the optional second line.
        sentences = sentences[:1] + sentences[2:] if len(kinds) > 1 else sentences
        for kind in kinds:
            sentences.insert(rng.randint(1, len(sentences)), _pii_sentence(rng, kind))
        if rng.random() < 0.1:
            # Some customers put their contact details straight into the subject line.
            kind = rng.choice(("email", "mobile_dash"))
            title = f"{title} ({_pii_value(rng, kind)})"
    sentences = sentences[:4]

    if leaf.path is None:
        category: tuple[str | None, str | None, str | None] = _blank_categories(rng)
    else:
        category = leaf.path
    topic: str | None = surge.topic if surge else rng.choice(leaf.topics)
    keyword_pool = list(leaf.keywords)
    picked = rng.sample(keyword_pool, rng.randint(2, min(4, len(keyword_pool))))
    if surge:
        picked = rng.sample(list(surge.keywords), 2) + picked[:2]
    keywords: str | None = ",".join(picked)
    if leaf.path is None and rng.random() < 0.6:
        topic = None
    elif rng.random() < 0.04:
        topic = None
    if rng.random() < (0.3 if leaf.path is None else 0.05):
        keywords = None
    return _Row(
        created_kst=created_kst,
        title=title,
        detail=" ".join(sentences),
        category1=category[0],
        category2=category[1],
        category3=category[2],
        emotion=emotion,
        main_topic=topic,
        keywords=keywords,
        leaf=leaf,
    )


class _Fill(dict[str, str]):
    """Template values, drawn only for the placeholders a template uses, then kept per ticket."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    def __missing__(self, key: str) -> str:
        value = self[key] = self.rng.choice(_FILLERS[key])
        return value


def _emotion(rng: random.Random, is_negative: bool) -> str | None:
    """The classifier's emotion label, including the messy values the real column carries."""
    roll = rng.random()
    if is_negative:
        # Stray whitespace around '부정' still means negative once staging trims it.
        return " 부정 " if roll < 0.04 else "부정 " if roll < 0.06 else "부정"
    if roll < 0.06:
        return None
    if roll < 0.09:
        return ""
    if roll < 0.11:
        return " 중립"
    return "긍정" if roll < 0.3 else "중립"


def _blank_categories(rng: random.Random) -> tuple[str | None, str | None, str | None]:
    """The ways an unclassified ticket arrives: NULL, empty, whitespace-only or a mix."""
    style = rng.randrange(4)
    if style == 0:
        return (None, None, None)
    if style == 1:
        return ("", "", "")
    if style == 2:
        return ("  ", "  ", "  ")
    return (None, "", " ")


def _pick_pii_kind(rng: random.Random, leaf: _Leaf) -> str:
    """A kind of personal data that fits the ticket's topic."""
    return rng.choice((*leaf.pii, *_GENERIC_PII))


def _pii_sentence(rng: random.Random, kind: str) -> str:
    """A sentence carrying one piece of personal data of `kind`."""
    return rng.choice(_PII_SENTENCES[kind]).format(v=_pii_value(rng, kind))


def _digits(rng: random.Random, count: int) -> str:
    """`count` random digits."""
    return "".join(str(rng.randrange(10)) for _ in range(count))


def _pii_value(rng: random.Random, kind: str) -> str:
    """A fake but well-formed value of `kind`."""
    if kind == "email":
        name = rng.choice(_EMAIL_NAMES) + (str(rng.randint(70, 99)) if rng.random() < 0.4 else "")
        return f"{name}@{rng.choice(_EMAIL_DOMAINS)}"
    if kind == "mobile_dash":
        return f"010-{_digits(rng, 4)}-{_digits(rng, 4)}"
    if kind == "mobile_compact":
        return f"010{_digits(rng, 8)}"
    if kind == "mobile_intl":
        return f"+82 10-{_digits(rng, 4)}-{_digits(rng, 4)}"
    if kind == "landline":
        area = rng.choice(("02", "031", "051", "064"))
        middle = 3 if area == "02" and rng.random() < 0.5 else 4
        return f"{area}-{rng.randint(2, 9)}{_digits(rng, middle - 1)}-{_digits(rng, 4)}"
    if kind == "rrn":
        birth = date(1970, 1, 1) + timedelta(days=rng.randrange(365 * 35))
        return f"{birth:%y%m%d}-{rng.randint(1, 4)}{_digits(rng, 6)}"
    if kind == "card":
        return "-".join(_digits(rng, 4) for _ in range(4))
    if kind == "business_no":
        return f"{_digits(rng, 3)}-{_digits(rng, 2)}-{_digits(rng, 5)}"
    if kind == "bank_account":
        bank, parts = rng.choice(_BANKS)
        return f"{bank} " + "-".join(_digits(rng, size) for size in parts)
    if kind == "birth_date":
        birth = date(1975, 1, 1) + timedelta(days=rng.randrange(365 * 30))
        return birth.strftime(rng.choice(("%Y.%m.%d", "%Y-%m-%d")))
    if kind == "ip":
        return rng.choice(
            (
                f"192.168.0.{rng.randint(2, 254)}",
                f"211.234.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            )
        )
    if kind == "token_url":
        token = "".join(rng.choice("0123456789abcdef") for _ in range(16))
        page = rng.choice(("reset", "verify-email", "login/callback"))
        return f"https://www.wanted.co.kr/{page}?token={token}"
    if kind == "digit_run":
        return str(rng.randint(2, 9)) + _digits(rng, rng.randint(11, 15))
    raise ValueError(f"unknown personal-data kind: {kind}")


def _assign_ids(rng: random.Random, rows: list[_Row]) -> list[_Row]:
    """Zendesk-style ids: increasing with creation time, with gaps left by other brands' tickets."""
    ordered = sorted(rows, key=lambda row: row.created_kst)
    next_id = 4_800_000
    for row in ordered:
        next_id += rng.randint(1, 5)
        row.id = str(next_id)
    return ordered


def _add_duplicates(rng: random.Random, rows: list[_Row], first_week: date) -> list[_Row]:
    """Export some tickets twice: half verbatim, half also with an older classification."""
    # The revised row is the planned one and strictly later than the superseded one, so
    # deduplication by latest event_create_time keeps it and the planned counts hold, whatever
    # order staging uses to break ties.
    start = datetime.combine(first_week, time(), KST)
    total = max(2, round(len(rows) * _DUPLICATE_SHARE))
    picks = rng.sample(range(len(rows)), total)
    exact, revised = picks[: total // 2], picks[total // 2 :]
    extra = [rows[index] for index in exact]
    for index in revised:
        row = rows[index]
        # The earlier classification must stay inside the exported range.
        room = int((row.created_kst - start).total_seconds() // 60)
        if room < 2:
            extra.append(row)
            continue
        earlier = row.created_kst - timedelta(minutes=rng.randint(1, min(180, room)))
        siblings = _siblings(row.leaf)
        if siblings and rng.random() < 0.5:
            extra.append(replace(row, created_kst=earlier, category3=rng.choice(siblings)))
        else:
            extra.append(replace(row, created_kst=earlier, emotion=_other_emotion(rng, row.emotion)))
    return rows + extra


def _siblings(leaf: _Leaf) -> list[str]:
    """Other third-level categories under the same first two levels."""
    if leaf.path is None:
        return []
    return [
        other.path[2]
        for other in _LEAVES
        if other.path is not None and other.path[:2] == leaf.path[:2] and other.path != leaf.path
    ]


def _other_emotion(rng: random.Random, emotion: str | None) -> str:
    """An emotion label different from `emotion` after trimming."""
    current = (emotion or "").strip()
    return rng.choice([label for label in ("부정", "중립", "긍정") if label != current])


def _write_parquet(path: Path, rows: Sequence[_Row]) -> None:
    """Write the rows in the source contract, atomically."""
    # Through newline-delimited JSON rather than pa.array: converting Python lists makes pyarrow
    # import pandas, which takes longer than generating the whole file.
    lines = [
        json.dumps(
            {
                "id": row.id,
                # Generated in KST, stored as naive UTC like the production column.
                "event_create_time": row.created_kst.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" "),
                "title": row.title,
                "detail": row.detail,
                "category1": row.category1,
                "category2": row.category2,
                "category3": row.category3,
                "overall_emotion": row.emotion,
                "main_topic": row.main_topic,
                "keywords": row.keywords,
            },
            ensure_ascii=False,
        )
        for row in rows
    ]
    data = "\n".join([*lines, ""]).encode("utf-8")
    table = pa_json.read_json(
        io.BytesIO(data),
        # One block read on one thread: a single chunk in row order.
        read_options=pa_json.ReadOptions(use_threads=False, block_size=max(len(data), 1 << 20)),
        parse_options=pa_json.ParseOptions(explicit_schema=_SCHEMA, unexpected_field_behavior="error"),
    )
    with _atomic_file(path) as handle:
        pq.write_table(table, handle, compression="zstd")


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write a small JSON document atomically."""
    with _atomic_file(path) as handle:
        handle.write((json.dumps(payload, indent=2, sort_keys=True) + "\n").encode("utf-8"))


@contextmanager
def _atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary file that appears at `path` only once it is completely written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Same directory, so os.replace is a rename within one file system, never a copy. Opened with
    # "x" rather than mkstemp so the file gets the usual umask permissions, not 0600.
    tmp_path = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp_path, "xb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)
